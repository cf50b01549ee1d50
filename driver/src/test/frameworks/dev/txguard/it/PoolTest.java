package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.txguard.TxGuardDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Behaviours 6 and 10 through HikariCP, in the three ways users wire it: a {@code jdbc:txguard:}
 * jdbcUrl (txguard under the pool), {@code new TxGuardDataSource(hikari)} (txguard over it), and
 * the JavaBean form as Hikari's dataSourceClassName. One connection in the pool, so that the next
 * borrower gets the very connection the last one abandoned.
 */
class PoolTest {

    enum Layout { URL_UNDER_POOL, DATASOURCE_OVER_POOL, BEAN_AS_DATASOURCE_CLASS }

    static final class Pool implements AutoCloseable {
        final HikariDataSource hikari;
        final DataSource dataSource;

        Pool(TestDb db, Layout layout, boolean autoCommit) {
            HikariConfig config = new HikariConfig();
            config.setMaximumPoolSize(1);
            config.setAutoCommit(autoCommit);
            config.setPoolName("txguard-test");
            switch (layout) {
                case URL_UNDER_POOL:
                    config.setJdbcUrl(db.guardedUrl());
                    config.setDriverClassName("dev.txguard.TxGuardDriver"); // as the README documents
                    break;
                case DATASOURCE_OVER_POOL:
                    config.setJdbcUrl(db.rawUrl);
                    break;
                case BEAN_AS_DATASOURCE_CLASS:
                    config.setDataSourceClassName(TxGuardDataSource.class.getName());
                    Properties p = new Properties();
                    p.setProperty("url", db.rawUrl); // a plain URL gets the prefix
                    config.setDataSourceProperties(p);
                    break;
            }
            hikari = new HikariDataSource(config);
            dataSource = layout == Layout.DATASOURCE_OVER_POOL ? new TxGuardDataSource(hikari) : hikari;
        }

        @Override
        public void close() {
            hikari.close();
        }
    }

    static void runAll(Database database, PoolScenario scenario) throws Exception {
        for (Layout layout : Layout.values()) {
            for (boolean autoCommit : new boolean[] {true, false}) {
                try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, layout, autoCommit)) {
                    scenario.run(db, pool, layout + (autoCommit ? "" : " autoCommit=false"));
                }
            }
        }
    }

    interface PoolScenario {
        void run(TestDb db, Pool pool, String label) throws Exception;
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void connectionReturnedWithScopesOpen_nextBorrowerStartsClean(Database database) throws Exception {
        runAll(database, (db, pool, label) -> {
            try (Connection c = pool.dataSource.getConnection()) {
                Legacy.leaveTwoScopesOpen(c, db.table);
            }
            db.assertCommitted();
            try (Connection c = pool.dataSource.getConnection()) {
                boolean poolDefault = pool.hikari.isAutoCommit();
                assertTrue(c.getAutoCommit() == poolDefault, label + ": pool's autocommit default is back");
                db.insert(c, 4);
                if (!poolDefault) c.commit();
            }
            db.assertCommitted(4);
        });
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void sqlBeginLeftOpen_isRolledBackOnReturn(Database database) throws Exception {
        runAll(database, (db, pool, label) -> {
            try (Connection c = pool.dataSource.getConnection()) {
                if (!pool.hikari.isAutoCommit()) c.commit();
                Legacy.sql(c, "BEGIN");
                db.insert(c, 1);
            }
            db.assertCommitted();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 2);
                if (!c.getAutoCommit()) c.commit();
            }
            db.assertCommitted(2);
        });
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void nestedDaoThroughThePool_serviceFails_nothingCommitted(Database database) throws Exception {
        runAll(database, (db, pool, label) -> {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = pool.dataSource.getConnection()) {
                c.setAutoCommit(false);
                db.insert(c, 1);
                dao.saveClassic(c, 2);
                c.rollback();
                c.setAutoCommit(true);
            }
            db.assertCommitted();
        });
    }

    /** Behaviour 10: a pool with autoCommit=false; nobody calls setAutoCommit(false) before working. */
    @ParameterizedTest
    @EnumSource(Database.class)
    void manualModePool_pendingWorkNestsCleanConnectionDoesNot(Database database) throws Exception {
        for (Layout layout : Layout.values()) {
            try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, layout, false)) {
                Legacy.Dao dao = new Legacy.Dao(db.table);
                // A clean connection: the DAO's begin is outermost and its commit is real.
                try (Connection c = pool.dataSource.getConnection()) {
                    assertFalse(c.getAutoCommit());
                    dao.saveClassic(c, 1);
                    db.assertCommitted(1);
                }
                // Work pending, as a Spring or Hibernate unit of work leaves it: the DAO nests as a savepoint.
                try (Connection c = pool.dataSource.getConnection()) {
                    db.insert(c, 2);
                    dao.saveClassic(c, 3);
                    db.assertCommitted(1);
                    c.rollback();
                }
                db.assertCommitted(1);
                // Commit per unit of work, never a begin: plain JDBC.
                try (Connection c = pool.dataSource.getConnection()) {
                    db.insert(c, 4);
                    c.commit();
                    db.assertCommitted(1, 4);
                    db.insert(c, 5);
                    c.commit();
                }
                db.assertCommitted(1, 4, 5);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void guardedOnce_whenTheDataSourceWrapsAPoolOverTheDriver(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, Layout.URL_UNDER_POOL, true)) {
            TxGuardDataSource twice = new TxGuardDataSource(pool.hikari);
            try (Connection c = twice.getConnection()) {
                assertTrue(c.getClass().getName().startsWith("com.zaxxer.hikari"), "not wrapped a second time: "
                        + c.getClass().getName());
                assertSame(TxGuardDataSource.class.getClassLoader(), c.unwrap(Connection.class).getClass().getClassLoader());
                assertTrue(c.unwrap(Connection.class).getClass().getName().startsWith("dev.txguard."), "guarded below");
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }
}
