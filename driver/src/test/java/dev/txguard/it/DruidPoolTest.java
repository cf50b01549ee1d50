package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.alibaba.druid.pool.DruidDataSource;
import dev.txguard.TxGuardDataSource;
import java.sql.Connection;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Druid, which keeps its own record of a connection's autocommit above the driver and acts on it: it
 * drops a setAutoCommit that matches the record, and a rollback() while the record says autocommit is
 * on. So txguard goes over Druid ({@code new TxGuardDataSource(druid)}), and under it (a {@code
 * jdbc:txguard:} URL as Druid's) nesting does not hold. Also run under the agent, which leaves both as
 * they are (what it does with Druid's own URL: DruidUnderAgent).
 */
class DruidPoolTest {

    private static DruidDataSource druid(String url, boolean autoCommit) {
        DruidDataSource pool = new DruidDataSource();
        pool.setUrl(url);
        if (url.startsWith("jdbc:txguard:")) pool.setDriverClassName(dev.txguard.TxGuardDriver.class.getName());
        pool.setMaxActive(1);
        pool.setDefaultAutoCommit(autoCommit);
        return pool;
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void txguardOverDruid_aDaoNestsAndTheNextBorrowerStartsClean(Database database) throws Exception {
        for (boolean autoCommit : new boolean[] {true, false}) {
            try (TestDb db = TestDb.open(database); DruidDataSource druid = druid(db.rawUrl, autoCommit)) {
                TxGuardDataSource guarded = new TxGuardDataSource(druid);
                Legacy.Dao dao = new Legacy.Dao(db.table);
                try (Connection c = guarded.getConnection()) {
                    assertThrows(ServiceFailure.class, () -> PoolKindsTest.transfer(db, c, dao, true));
                }
                db.assertCommitted();
                try (Connection c = guarded.getConnection()) {
                    c.setAutoCommit(false);
                    db.insert(c, 3);
                    dao.saveNeverRestoring(c, 4);
                } // handed back with scopes open
                db.assertCommitted();
                try (Connection c = guarded.getConnection()) {
                    assertEquals(autoCommit, c.getAutoCommit(), "Druid's autocommit setting");
                    PoolKindsTest.transfer(db, c, dao, false);
                }
                db.assertCommitted(1, 2);
            }
        }
    }

    /**
     * The documented limit: under Druid a DAO's restore turns Druid's record of autocommit on, so Druid
     * drops the service's rollback: the DAO's work and the service's are committed, as without txguard.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void txguardUnderDruid_druidDropsTheServicesRollbackAfterADaosRestore_theLimitationIsAsDocumented(Database database)
            throws Exception {
        try (TestDb db = TestDb.open(database); DruidDataSource druid = druid(db.guardedUrl(), true)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = druid.getConnection()) {
                assertThrows(ServiceFailure.class, () -> PoolKindsTest.transfer(db, c, dao, true));
            }
            db.assertCommitted(1, 2);
        }
    }

    /**
     * Druid configures a manual-mode connection (autoCommit=false) through its own connection wrapper:
     * before txguard let a pool's connection class pass its caller's call on, that was taken for a begin by
     * nobody, and the return put autocommit on where Druid believed it off; on PostgreSQL the next
     * borrower's commit then failed.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void txguardUnderDruidInManualMode_aConnectionHandedBackUncommitted_theNextBorrowerCommits(Database database)
            throws Exception {
        try (TestDb db = TestDb.open(database); DruidDataSource druid = druid(db.guardedUrl(), false)) {
            try (Connection c = druid.getConnection()) {
                db.insert(c, 1);
            } // handed back uncommitted: Druid rolls it back
            try (Connection c = druid.getConnection()) {
                assertEquals(false, c.getAutoCommit(), "Druid's autocommit setting");
                db.insert(c, 2);
                c.commit();
            }
            db.assertCommitted(2);
        }
    }
}
