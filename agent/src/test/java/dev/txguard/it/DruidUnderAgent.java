package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alibaba.druid.pool.DruidDataSource;
import com.alibaba.druid.pool.DruidPooledConnection;
import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An unmodified application on Druid, with the database's own URL, under the agent. Druid keeps its own
 * record of autocommit and drops calls that match it, so a guard beneath Druid cannot keep nesting (see
 * DruidPoolTest): the agent guards the connections Druid hands out and leaves alone the physical ones Druid
 * opens for itself, so that every connection is guarded once, above Druid.
 */
class DruidUnderAgent {

    /** How the application asks: through the DataSource interface (Spring, MyBatis), or Druid's own method. */
    enum Borrow {
        AS_DATA_SOURCE, AS_DRUID;

        Connection from(DruidDataSource druid) throws SQLException {
            return this == AS_DATA_SOURCE ? ((DataSource) druid).getConnection() : druid.getConnection();
        }
    }

    @BeforeAll
    static void underTheAgent() throws Exception {
        assertTrue(EngineProbe.agentGuardsConnections(), "this class must run in a JVM started with the txguard agent");
    }

    private static DruidDataSource druid(String url, boolean autoCommit) {
        DruidDataSource pool = new DruidDataSource();
        pool.setUrl(url);
        pool.setMaxActive(1);
        pool.setDefaultAutoCommit(autoCommit);
        return pool;
    }

    static Stream<Arguments> everyWayAndDatabase() {
        List<Arguments> all = new ArrayList<>();
        for (Database database : Database.values()) {
            for (Borrow borrow : Borrow.values()) all.add(Arguments.of(database, borrow));
        }
        return all.stream();
    }

    static Stream<Arguments> everyWayDatabaseAndAutoCommit() {
        return everyWayAndDatabase().flatMap(way -> Stream.of(true, false).map(
                autoCommit -> Arguments.of(way.get()[0], way.get()[1], autoCommit)));
    }

    @ParameterizedTest(name = "{0} {1} autoCommit={2}")
    @MethodSource("everyWayDatabaseAndAutoCommit")
    void aDaoNestsInTheServicesTransaction_andTheNextBorrowerStartsClean(Database database, Borrow borrow,
                                                                          boolean autoCommit) throws Exception {
        try (TestDb db = TestDb.open(database); DruidDataSource druid = druid(db.rawUrl, autoCommit)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = borrow.from(druid)) {
                assertThrows(ServiceFailure.class, () -> PoolKindsTest.transfer(db, c, dao, true));
            }
            db.assertCommitted(); // with the guard beneath Druid, the DAO's row and the service's were committed
            try (Connection c = borrow.from(druid)) {
                Legacy.leaveTwoScopesOpen(c, db.table);
            } // handed back with scopes open
            db.assertCommitted();
            try (Connection c = borrow.from(druid)) {
                assertEquals(autoCommit, c.getAutoCommit(), "Druid's autocommit setting");
                PoolKindsTest.transfer(db, c, dao, false);
            }
            db.assertCommitted(1, 2);
        }
    }

    /** With a filter, Druid's physical connection is its own proxy over the driver's: still not guarded. */
    @ParameterizedTest
    @EnumSource(Database.class)
    void withDruidsStatFilter_aDaoStillNests(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); DruidDataSource druid = druid(db.rawUrl, true)) {
            druid.setFilters("stat");
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = ((DataSource) druid).getConnection()) {
                assertThrows(ServiceFailure.class, () -> PoolKindsTest.transfer(db, c, dao, true));
                assertFalse(EngineProbe.guarded(c.unwrap(DruidPooledConnection.class).getConnectionHolder().getConnection()));
            }
            db.assertCommitted();
        }
    }

    /**
     * Through the interface the application holds the guard, over Druid's handle, and the physical connection
     * beneath is not guarded again; savepoints are set lazily, as on any guarded connection. Through Druid's
     * own method it holds Druid's handle, whose transaction calls go to the guard put over it in place.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void theGuardIsAboveDruid_andThePhysicalConnectionIsNotGuardedAgain(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); DruidDataSource druid = druid(db.rawUrl, true)) {
            try (Connection c = ((DataSource) druid).getConnection()) {
                assertTrue(EngineProbe.guarded(c));
                assertFalse(EngineProbe.setsSavepointsAtOnce(c), "the application holds the guard, not Druid's handle");
                DruidPooledConnection handle = c.unwrap(DruidPooledConnection.class);
                assertFalse(EngineProbe.guarded(handle.getConnectionHolder().getConnection()),
                        "the physical connection beneath Druid is not guarded");
            }
            try (DruidPooledConnection handle = druid.getConnection()) {
                assertFalse(EngineProbe.guarded(handle));
                assertFalse(EngineProbe.guarded(handle.getConnectionHolder().getConnection()));
                handle.setAutoCommit(false);
                Legacy.sql(handle, "INSERT INTO " + db.table + " (id) VALUES (1)");
                handle.commit(); // the guard's, for a statement the guard did not see
                db.assertCommitted(1);
                handle.setAutoCommit(true);
            }
        }
    }

    /**
     * Druid's handle hands out the physical connection beneath it (its PooledConnection method): that connection
     * is reached from the handle's guard, and its transaction methods go to that guard, as an unwrapped one's.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyWayAndDatabase")
    void thePhysicalConnectionFromDruidsHandle_itsCommitInANestedScopeOnlyEndsTheScope(Database database, Borrow borrow)
            throws Exception {
        try (TestDb db = TestDb.open(database); DruidDataSource druid = druid(db.rawUrl, true)) {
            try (Connection c = borrow.from(druid)) {
                Connection physical = c.unwrap(DruidPooledConnection.class).getConnection();
                c.setAutoCommit(false);
                db.insert(c, 1);
                new Legacy.Dao(db.table).saveClassic(physical, 2);
                db.assertCommitted(); // unguarded, the DAO's commit on the physical connection commits 1 and 2
                c.rollback();
                c.setAutoCommit(true);
            }
            db.assertCommitted();
        }
    }
}
