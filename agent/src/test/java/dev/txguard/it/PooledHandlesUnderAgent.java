package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import javax.sql.ConnectionPoolDataSource;
import javax.sql.PooledConnection;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Under the agent, the handle an application server takes from a {@code PooledConnection} (through the
 * interface, as servers call it) is guarded on every database, MariaDB's included, whose
 * {@code getConnection()} returns its own connection class and is reached through a compiler-written bridge.
 */
class PooledHandlesUnderAgent {

    @BeforeAll
    static void underTheAgent() throws Exception {
        assertTrue(EngineProbe.agentGuardsConnections(), "this class must run in a JVM started with the txguard agent");
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.it.Database#samplesDatabases")
    void aHandlesNestedDaoCommit_onlyEndsItsScope(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            PooledConnection pooled = source(database, db.rawUrl).getPooledConnection();
            try (Connection handle = pooled.getConnection()) {
                assertTrue(EngineProbe.guarded(handle));
                serviceWithANestedDao(db, handle);
            } finally {
                pooled.close();
            }
        }
    }

    /**
     * MariaDB's own method, called on its own type, returns its own connection class, which no guard can be:
     * a guard goes over it in place, and the connection's transaction methods go to that guard.
     */
    @org.junit.jupiter.api.Test
    void mariadbsOwnMethod_theHandlesTransactionCallsGoToTheGuardPutOverItInPlace() throws Exception {
        try (TestDb db = TestDb.open(Database.MARIADB)) {
            org.mariadb.jdbc.MariaDbPoolConnection pooled =
                    (org.mariadb.jdbc.MariaDbPoolConnection) source(Database.MARIADB, db.rawUrl).getPooledConnection();
            try (org.mariadb.jdbc.Connection handle = pooled.getConnection()) {
                assertFalse(EngineProbe.guarded(handle));
                serviceWithANestedDao(db, handle);
            } finally {
                pooled.close();
            }
        }
    }

    /** A service's transaction with a legacy DAO's nested in it, then rolled back: nothing is committed. */
    static void serviceWithANestedDao(TestDb db, Connection handle) throws Exception {
        handle.setAutoCommit(false);
        db.insert(handle, 1);
        new Legacy.Dao(db.table).saveClassic(handle, 2);
        db.assertCommitted(); // unguarded, the DAO's commit would have committed 1 and 2
        handle.rollback();
        handle.setAutoCommit(true);
        db.assertCommitted();
    }

    private static ConnectionPoolDataSource source(Database database, String url) throws Exception {
        switch (database) {
            case H2: {
                org.h2.jdbcx.JdbcDataSource h2 = new org.h2.jdbcx.JdbcDataSource();
                h2.setURL(url);
                return h2;
            }
            case POSTGRESQL: {
                org.postgresql.ds.PGConnectionPoolDataSource pg = new org.postgresql.ds.PGConnectionPoolDataSource();
                pg.setURL(url);
                return pg;
            }
            default:
                return new org.mariadb.jdbc.MariaDbDataSource(url);
        }
    }
}
