package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.mchange.v2.c3p0.ComboPooledDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.apache.commons.dbcp2.BasicDataSource;
import org.apache.ibatis.datasource.pooled.PooledDataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pools other than HikariCP (PoolTest) that applications run, each with one connection, so that
 * the next borrower gets the very connection the last one abandoned: Apache DBCP 2 and Tomcat's own copy
 * of it (behind Tomcat's JNDI DataSources), Tomcat JDBC, c3p0, MyBatis's PooledDataSource and Vibur (Druid
 * and Agroal: StatefulPoolsTest; Oracle's UCP: UcpTest). Each hands a connection back, or takes it back, in its
 * own way (a rollback, an autocommit reset, both, from the handle's close or from the pool's own code),
 * and txguard must see each as the end of whatever the last borrower left open.
 */
class PoolKindsTest {

    enum Kind {
        DBCP2, TOMCAT_DBCP, TOMCAT_JDBC, C3P0, MYBATIS, VIBUR;

        /** c3p0 has no autocommit setting: it hands connections out with autocommit on. */
        boolean hasManualMode() {
            return this != C3P0;
        }
    }

    /** One pool, one connection, over a {@code jdbc:txguard:} URL. */
    static final class Pool implements AutoCloseable {
        final DataSource dataSource;
        private final AutoCloseable closer;

        Pool(TestDb db, Kind kind, boolean autoCommit) {
            String url = db.guardedUrl();
            String driver = dev.txguard.TxGuardDriver.class.getName();
            switch (kind) {
                case DBCP2: {
                    BasicDataSource pool = new BasicDataSource();
                    pool.setUrl(url);
                    pool.setMaxTotal(1);
                    pool.setDefaultAutoCommit(autoCommit);
                    dataSource = pool;
                    closer = pool;
                    break;
                }
                case TOMCAT_DBCP: {
                    org.apache.tomcat.dbcp.dbcp2.BasicDataSource pool = new org.apache.tomcat.dbcp.dbcp2.BasicDataSource();
                    pool.setUrl(url);
                    pool.setMaxTotal(1);
                    pool.setDefaultAutoCommit(autoCommit);
                    dataSource = pool;
                    closer = pool;
                    break;
                }
                case TOMCAT_JDBC: {
                    org.apache.tomcat.jdbc.pool.DataSource pool = new org.apache.tomcat.jdbc.pool.DataSource();
                    pool.setUrl(url);
                    pool.setDriverClassName(driver);
                    pool.setMaxActive(1);
                    pool.setInitialSize(1);
                    pool.setMaxIdle(1);
                    pool.setMinIdle(1);
                    pool.setDefaultAutoCommit(autoCommit);
                    dataSource = pool;
                    closer = () -> pool.close(true);
                    break;
                }
                case C3P0: {
                    ComboPooledDataSource pool = new ComboPooledDataSource();
                    pool.setJdbcUrl(url);
                    pool.setMinPoolSize(1);
                    pool.setInitialPoolSize(1);
                    pool.setMaxPoolSize(1);
                    dataSource = pool;
                    closer = pool::close;
                    break;
                }
                case VIBUR: {
                    // Without resetting, Vibur calls nothing on a connection it takes back (see the limit test below)
                    org.vibur.dbcp.ViburDBCPDataSource pool = vibur(db, autoCommit, true);
                    dataSource = pool;
                    closer = pool::close;
                    break;
                }
                case MYBATIS: {
                    PooledDataSource pool = new PooledDataSource(driver, url, null, null);
                    pool.setPoolMaximumActiveConnections(1);
                    pool.setPoolMaximumIdleConnections(1);
                    pool.setDefaultAutoCommit(autoCommit);
                    dataSource = pool;
                    closer = pool::forceCloseAll;
                    break;
                }
                default:
                    throw new IllegalArgumentException(kind.toString());
            }
        }

        @Override
        public void close() throws Exception {
            closer.close();
        }
    }

    static org.vibur.dbcp.ViburDBCPDataSource vibur(TestDb db, boolean autoCommit, boolean resetDefaultsAfterUse) {
        org.vibur.dbcp.ViburDBCPDataSource pool = new org.vibur.dbcp.ViburDBCPDataSource();
        pool.setJdbcUrl(db.guardedUrl());
        pool.setUsername(db.user());
        pool.setPassword("");
        pool.setPoolInitialSize(1);
        pool.setPoolMaxSize(1);
        pool.setDefaultAutoCommit(autoCommit);
        pool.setResetDefaultsAfterUse(resetDefaultsAfterUse);
        pool.start();
        return pool;
    }

    static Stream<Arguments> everyPoolAndDatabase() {
        List<Arguments> all = new ArrayList<>();
        for (Database database : Database.values()) {
            for (Kind kind : Kind.values()) {
                all.add(Arguments.of(database, kind, true));
                if (kind.hasManualMode()) all.add(Arguments.of(database, kind, false));
            }
        }
        return all.stream();
    }

    /**
     * Tomcat JDBC resets autocommit from its own code as it hands a connection out, MyBatis rolls back as it
     * takes one back and as it hands one out: before txguard took a pool's own code for the pool, the next
     * borrower's begin nested in what the last one abandoned, and its commit committed nothing.
     */
    @ParameterizedTest(name = "{0} {1} autoCommit={2}")
    @MethodSource("everyPoolAndDatabase")
    void connectionReturnedWithScopesOpen_theNextBorrowersCommitIsReal(Database database, Kind kind, boolean autoCommit)
            throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, kind, autoCommit)) {
            try (Connection c = pool.dataSource.getConnection()) {
                Legacy.leaveTwoScopesOpen(c, db.table);
            }
            db.assertCommitted();

            try (Connection c = pool.dataSource.getConnection()) {
                assertEquals(autoCommit, c.getAutoCommit(), kind + ": the pool's autocommit setting is back");
                c.setAutoCommit(false);
                db.insert(c, 4);
                c.commit();
                c.setAutoCommit(autoCommit);
            }
            db.assertCommitted(4);
        }
    }

    @ParameterizedTest(name = "{0} {1} autoCommit={2}")
    @MethodSource("everyPoolAndDatabase")
    void nestedDaoThroughThePool_theServiceFails_nothingCommitted(Database database, Kind kind, boolean autoCommit)
            throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, kind, autoCommit)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = pool.dataSource.getConnection()) {
                assertThrows(ServiceFailure.class, () -> transfer(db, c, dao, true));
            }
            db.assertCommitted();
            try (Connection c = pool.dataSource.getConnection()) {
                transfer(db, c, dao, false);
            }
            db.assertCommitted(1, 2);
        }
    }

    /**
     * An owner's own rollback, which reaches txguard through the pool's handle: it ends the owner's work so far,
     * and the owner carries on and commits, as in plain JDBC. Before txguard took every connection class for one
     * that passes its caller's call on, the frames of Tomcat's DBCP handle (and Oracle UCP's: UcpTest) were taken
     * for the application's: the rollback came from a method other than the one that began, so it was taken for
     * a stray one, and the owner's next statement was refused as rollback-only.
     */
    @ParameterizedTest(name = "{0} {1} autoCommit={2}")
    @MethodSource("everyPoolAndDatabase")
    void ownersRollbackThroughThePool_itCarriesOnAndCommits(Database database, Kind kind, boolean autoCommit)
            throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, kind, autoCommit)) {
            try (Connection c = pool.dataSource.getConnection()) {
                Legacy.rollBackThenCarryOn(c, db.table, autoCommit);
            }
            db.assertCommitted(2);
        }
    }

    /**
     * The documented limit: with its defaults Vibur calls nothing on a connection it takes back or hands out,
     * and its handle is a dynamic proxy, so txguard does not see the return. The next borrower's begin nests in
     * what the last one left open, and its commit commits nothing (without txguard it would commit the last
     * borrower's work with its own); txguard says so in a warning. With resetDefaultsAfterUse Vibur resets the
     * connection, and txguard sees that.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Database.class)
    void viburWithItsDefaults_theReturnIsNotSeen_theLimitationIsAsDocumented(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start()) {
            org.vibur.dbcp.ViburDBCPDataSource pool = vibur(db, true, false);
            try {
                try (Connection c = pool.getConnection()) {
                    Legacy.leaveTwoScopesOpen(c, db.table);
                }
                nextBorrowerCommits(pool, db, 4);
                db.assertCommitted();
                assertEquals(1, log.count("nests in the transaction begun at"), log.all());
            } finally {
                pool.close();
            }
        }
    }

    /**
     * The next borrower, as in a server: another request, on another thread, begins, inserts the row and commits.
     */
    static void nextBorrowerCommits(DataSource pool, TestDb db, int id) throws Exception {
        java.util.concurrent.ExecutorService next = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            next.submit(() -> {
                try (Connection c = pool.getConnection()) {
                    c.setAutoCommit(false);
                    db.insert(c, id);
                    c.commit();
                    c.setAutoCommit(true);
                }
                return null;
            }).get();
        } finally {
            next.shutdown();
        }
    }

    /**
     * Pools told to commit what a borrower hands back. c3p0's autoCommitOnClose never reaches txguard's scopes:
     * the handle's close comes first, and txguard rolls back then, as it never commits on close. Tomcat's
     * commitOnReturn commits from the pool's own code, which txguard takes for a commit: what the borrower left
     * open is committed, as without txguard (the documented limit).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Database.class)
    void poolsThatCommitOnReturn_c3p0sIsPreemptedTomcatsCommits(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            ComboPooledDataSource c3p0 = new ComboPooledDataSource();
            c3p0.setJdbcUrl(db.guardedUrl());
            c3p0.setMaxPoolSize(1);
            c3p0.setAutoCommitOnClose(true);
            try (Connection c = c3p0.getConnection()) {
                Legacy.leaveTwoScopesOpen(c, db.table);
            } finally {
                c3p0.close();
            }
            db.assertCommitted();

            org.apache.tomcat.jdbc.pool.DataSource tomcat = new org.apache.tomcat.jdbc.pool.DataSource();
            tomcat.setUrl(db.guardedUrl());
            tomcat.setDriverClassName(dev.txguard.TxGuardDriver.class.getName());
            tomcat.setMaxActive(1);
            tomcat.setDefaultAutoCommit(false);
            tomcat.setCommitOnReturn(true);
            try (Connection c = tomcat.getConnection()) {
                Legacy.leaveTwoScopesOpen(c, db.table);
            } finally {
                tomcat.close(true);
            }
            db.assertCommitted(1, 2, 3);
        }
    }

    /** A legacy service: its own transaction, a DAO that opens one too, then maybe a failure. */
    static void transfer(TestDb db, Connection c, Legacy.Dao dao, boolean failAfterTheDao) throws SQLException {
        boolean saved = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            db.insert(c, 1);
            dao.saveClassic(c, 2);
            if (failAfterTheDao) throw new ServiceFailure();
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(saved);
        }
    }
}
