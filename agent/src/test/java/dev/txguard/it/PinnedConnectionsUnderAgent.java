package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.txguard.TestTransaction;
import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Under the agent, test transactions reach connections the application opens with its own, plain URL: from
 * DriverManager, from a HikariCP pool over that URL, from the database's own data source (MariaDB's through the
 * bridge of its driver, which returns its own connection class). What is left is read past txguard afterwards.
 */
class PinnedConnectionsUnderAgent {

    @BeforeAll
    static void underTheAgent() throws Exception {
        assertTrue(EngineProbe.agentGuardsConnections(), "this class must run in a JVM started with the txguard agent");
    }

    private static Set<Integer> seenBy(Connection c, TestDb db) throws SQLException {
        Set<Integer> ids = new TreeSet<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + db.table)) {
            while (rs.next()) ids.add(rs.getInt(1));
        }
        return ids;
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.it.Database#samplesDatabases")
    void plainUrlConnections_areHandlesOnTheTestsConnection(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction test = TestTransaction.begin("plain URL")) {
                try (Connection a = DriverManager.getConnection(db.rawUrl); Connection b = DriverManager.getConnection(db.rawUrl)) {
                    new Legacy.Dao(db.table).saveClassic(a, 1);
                    b.setAutoCommit(false);
                    db.insert(b, 2);
                    assertEquals(Set.of(1, 2), seenBy(a, db), "one connection under both");
                    b.rollback();
                    b.setAutoCommit(true);
                    assertEquals(Set.of(1), seenBy(a, db));
                }
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.it.Database#samplesDatabases")
    void aPoolOverThePlainUrl_andTheDatabasesOwnDataSource_joinTheTestTransaction(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction test = TestTransaction.begin("pool and data source")) {
                HikariConfig config = new HikariConfig();
                config.setJdbcUrl(db.rawUrl);
                config.setMaximumPoolSize(2);
                try (HikariDataSource pool = new HikariDataSource(config)) {
                    try (Connection c = pool.getConnection()) {
                        new Legacy.Dao(db.table).saveClassic(c, 1);
                    }
                    try (Connection c = pool.getConnection()) {
                        c.setAutoCommit(false);
                        db.insert(c, 2); // left open: the pool rolls it back as it takes the connection back
                    }
                }
                DataSource own = database.ownDataSource(db.rawUrl, DataSource.class);
                try (Connection c = own.getConnection()) {
                    assertEquals(Set.of(1), seenBy(c, db));
                    new Legacy.Dao(db.table).saveClassic(c, 3);
                }
                try (Connection c = DriverManager.getConnection(db.rawUrl)) {
                    assertEquals(Set.of(1, 3), seenBy(c, db));
                }
            }
            db.assertCommitted();
        }
    }
}
