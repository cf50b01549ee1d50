package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.txguard.TxGuardDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import oracle.ucp.admin.UniversalConnectionPoolManagerImpl;
import oracle.ucp.jdbc.PoolDataSource;
import oracle.ucp.jdbc.PoolDataSourceFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Oracle's Universal Connection Pool, which runs over any JDBC driver. Its handles are classes it generates
 * ({@code oracle.ucp.jdbc.proxy.}), not dynamic proxies, and they pass every call on; it calls nothing on a
 * connection it takes back. Over it ({@code new TxGuardDataSource(pool)}) txguard sees each handle's close, so
 * the next borrower starts clean. Beneath it (a {@code jdbc:txguard:} URL for its connection factory) nesting
 * holds, and what a borrower leaves open goes to the next borrower, as without txguard.
 */
class UcpTest {

    private static final AtomicInteger POOLS = new AtomicInteger();

    /** One pool, one connection, over the database's own driver or txguard's, as the URL says. */
    static final class Ucp implements AutoCloseable {
        final PoolDataSource dataSource;

        Ucp(TestDb db, String url) throws SQLException {
            dataSource = PoolDataSourceFactory.getPoolDataSource();
            dataSource.setConnectionPoolName("txguard-test-" + POOLS.incrementAndGet()); // one name per pool in the JVM
            dataSource.setConnectionFactoryClassName(DriverManager.getDriver(url).getClass().getName());
            dataSource.setURL(url);
            dataSource.setUser(db.user());
            dataSource.setPassword("");
            dataSource.setInitialPoolSize(1);
            dataSource.setMaxPoolSize(1);
        }

        @Override
        public void close() throws Exception {
            UniversalConnectionPoolManagerImpl.getUniversalConnectionPoolManager()
                    .destroyConnectionPool(dataSource.getConnectionPoolName());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void txguardOverThePool_aDaoNestsAndTheNextBorrowerStartsClean(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Ucp pool = new Ucp(db, db.rawUrl)) {
            TxGuardDataSource guarded = new TxGuardDataSource(pool.dataSource);
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = guarded.getConnection()) {
                assertThrows(ServiceFailure.class, () -> PoolKindsTest.transfer(db, c, dao, true));
            }
            db.assertCommitted();
            try (Connection c = guarded.getConnection()) {
                Legacy.leaveTwoScopesOpen(c, db.table);
            }
            db.assertCommitted();
            try (Connection c = guarded.getConnection()) {
                assertEquals(true, c.getAutoCommit(), "the pool's autocommit");
                PoolKindsTest.transfer(db, c, dao, false);
            }
            db.assertCommitted(1, 2);
        }
    }

    /**
     * UCP's handle passes the application's calls on from frames of its own class: before txguard took them to
     * pass a call along, every scope beneath UCP was owned by the handle's setAutoCommit, and an owner's own
     * rollback, coming from the handle's rollback, was taken for a stray one, so the owner's work after it was
     * refused as rollback-only.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void txguardUnderThePool_aDaoNests_andAnOwnersRollbackIsItsOwn(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Ucp pool = new Ucp(db, db.guardedUrl())) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = pool.dataSource.getConnection()) {
                assertThrows(ServiceFailure.class, () -> PoolKindsTest.transfer(db, c, dao, true));
                db.assertCommitted();
                Legacy.rollBackThenCarryOn(c, db.table, true); // the service's rows were rolled back: ids 1 and 2 are free
            }
            db.assertCommitted(2);
        }
    }

    /**
     * The documented limit, as with Vibur's defaults: UCP calls nothing on a connection it takes back, so beneath
     * it txguard does not see the return. The next borrower's begin nests in what the last one left open, and its
     * commit commits nothing (without txguard it would commit the last borrower's work with its own); txguard
     * says so in a warning.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void txguardUnderThePool_theReturnIsNotSeen_theLimitationIsAsDocumented(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start()) {
            try (Ucp pool = new Ucp(db, db.guardedUrl())) {
                try (Connection c = pool.dataSource.getConnection()) {
                    Legacy.leaveTwoScopesOpen(c, db.table);
                }
                PoolKindsTest.nextBorrowerCommits(pool.dataSource, db, 4);
                db.assertCommitted();
                assertEquals(1, log.count("nests in the transaction begun at"), log.all());
            }
            db.assertCommitted(); // the pool closed its connection, and txguard rolled back
        }
    }
}
