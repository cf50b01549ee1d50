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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An unmodified application on Druid or Agroal, with the database's own URL, under the agent. Both decide from
 * their own reading of autocommit whether to pass a call on (see StatefulPoolsTest), so a guard beneath them
 * cannot keep nesting: the agent guards the connections they hand out and leaves alone the physical ones they
 * open for themselves, so that every connection is guarded once, above the pool.
 */
class StatefulPoolsUnderAgent {

    /**
     * A pool and how the application asks it for a connection: through the DataSource interface (Spring,
     * MyBatis, Hibernate), or through Druid's own method, whose declared type is Druid's class.
     */
    enum Way {
        DRUID_AS_DATA_SOURCE, DRUID_AS_DRUID, AGROAL;

        StatefulPoolsTest.Pool open(String url, boolean autoCommit) throws SQLException {
            return new StatefulPoolsTest.Pool(this == AGROAL ? StatefulPoolsTest.Kind.AGROAL : StatefulPoolsTest.Kind.DRUID,
                    url, autoCommit);
        }

        Connection borrow(StatefulPoolsTest.Pool pool) throws SQLException {
            return this == DRUID_AS_DRUID ? ((DruidDataSource) pool.dataSource).getConnection() : pool.dataSource.getConnection();
        }
    }

    @BeforeAll
    static void underTheAgent() throws Exception {
        assertTrue(EngineProbe.agentGuardsConnections(), "this class must run in a JVM started with the txguard agent");
    }

    static Stream<Arguments> everyDruidWayAndDatabase() {
        List<Arguments> all = new ArrayList<>();
        for (Database database : Database.values()) {
            for (Way way : new Way[] {Way.DRUID_AS_DATA_SOURCE, Way.DRUID_AS_DRUID}) all.add(Arguments.of(database, way));
        }
        return all.stream();
    }

    static Stream<Arguments> everyPoolDatabaseAndAutoCommit() {
        List<Arguments> all = new ArrayList<>();
        for (Database database : Database.values()) {
            for (Way way : Way.values()) {
                all.add(Arguments.of(database, way, true));
                all.add(Arguments.of(database, way, false));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1} autoCommit={2}")
    @MethodSource("everyPoolDatabaseAndAutoCommit")
    void aDaoNestsInTheServicesTransaction_andTheNextBorrowerStartsClean(Database database, Way way,
                                                                          boolean autoCommit) throws Exception {
        try (TestDb db = TestDb.open(database); StatefulPoolsTest.Pool pool = way.open(db.rawUrl, autoCommit)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = way.borrow(pool)) {
                assertThrows(ServiceFailure.class, () -> PoolKindsTest.transfer(db, c, dao, true));
            }
            db.assertCommitted(); // with the guard beneath the pool, the DAO's row and the service's were committed
            try (Connection c = way.borrow(pool)) {
                Legacy.leaveTwoScopesOpen(c, db.table);
            } // handed back with scopes open
            db.assertCommitted();
            try (Connection c = way.borrow(pool)) {
                assertEquals(autoCommit, c.getAutoCommit(), way + ": the pool's autocommit setting");
                PoolKindsTest.transfer(db, c, dao, false);
            }
            db.assertCommitted(1, 2);
        }
    }

    /** With a filter, Druid's physical connection is its own proxy over the driver's: still not guarded. */
    @ParameterizedTest
    @EnumSource(Database.class)
    void withDruidsStatFilter_aDaoStillNests(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); StatefulPoolsTest.Pool pool = Way.DRUID_AS_DATA_SOURCE.open(db.rawUrl, true)) {
            ((DruidDataSource) pool.dataSource).setFilters("stat");
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = Way.DRUID_AS_DATA_SOURCE.borrow(pool)) {
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
        try (TestDb db = TestDb.open(database); StatefulPoolsTest.Pool pool = Way.DRUID_AS_DATA_SOURCE.open(db.rawUrl, true)) {
            try (Connection c = Way.DRUID_AS_DATA_SOURCE.borrow(pool)) {
                assertTrue(EngineProbe.guarded(c));
                assertFalse(EngineProbe.setsSavepointsAtOnce(c), "the application holds the guard, not Druid's handle");
                DruidPooledConnection handle = c.unwrap(DruidPooledConnection.class);
                assertFalse(EngineProbe.guarded(handle.getConnectionHolder().getConnection()),
                        "the physical connection beneath Druid is not guarded");
            }
            try (DruidPooledConnection handle = (DruidPooledConnection) Way.DRUID_AS_DRUID.borrow(pool)) {
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
    @MethodSource("everyDruidWayAndDatabase")
    void thePhysicalConnectionFromDruidsHandle_itsCommitInANestedScopeOnlyEndsTheScope(Database database, Way way)
            throws Exception {
        try (TestDb db = TestDb.open(database); StatefulPoolsTest.Pool pool = way.open(db.rawUrl, true)) {
            try (Connection c = way.borrow(pool)) {
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
