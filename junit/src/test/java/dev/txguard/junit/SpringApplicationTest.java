package dev.txguard.junit;

import static dev.txguard.junit.TxGuardExtensionTest.connect;
import static dev.txguard.junit.TxGuardExtensionTest.ids;
import static dev.txguard.junit.TxGuardExtensionTest.save;
import static dev.txguard.junit.TxGuardExtensionTest.set;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.txguard.it.Database;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.test.context.junit.jupiter.SpringJUnitConfig;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

/**
 * A Spring application under {@code @TxGuardTest}: a HikariCP pool over a jdbc:txguard: URL, JdbcTemplate,
 * {@code @Transactional} services with REQUIRED, REQUIRES_NEW and NESTED propagation, a legacy DAO called inside
 * them, and a test that runs in Spring's own test-managed transaction as well. Nothing is left behind.
 */
class SpringApplicationTest {

    /** The application's services. */
    static class Orders {
        private final JdbcTemplate jdbc;
        private final Audit audit;

        Orders(JdbcTemplate jdbc, Audit audit) {
            this.jdbc = jdbc;
            this.audit = audit;
        }

        @Transactional
        public void place(int id, boolean fails) throws SQLException {
            jdbc.update("INSERT INTO " + TxGuardExtensionTest.table + " (id) VALUES (?)", id);
            audit.log(id + 1000);
            // a legacy DAO on the transaction's own connection: its commit only ends its scope
            save(DataSourceUtils.getConnection(jdbc.getDataSource()), id + 2000);
            if (fails) throw new IllegalStateException("out of stock");
        }
    }

    static class Audit {
        private final JdbcTemplate jdbc;

        Audit(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional(propagation = Propagation.REQUIRES_NEW)
        public void log(int id) {
            jdbc.update("INSERT INTO " + TxGuardExtensionTest.table + " (id) VALUES (?)", id);
        }

        @Transactional(propagation = Propagation.NESTED)
        public void tryLog(int id, boolean fails) {
            jdbc.update("INSERT INTO " + TxGuardExtensionTest.table + " (id) VALUES (?)", id);
            if (fails) throw new IllegalStateException("audit refused");
        }
    }

    @Configuration
    @EnableTransactionManagement
    static class Application {
        @Bean(destroyMethod = "close")
        HikariDataSource dataSource() {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(TxGuardExtensionTest.guardedUrl);
            config.setMaximumPoolSize(3);
            return new HikariDataSource(config);
        }

        @Bean
        PlatformTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }

        @Bean
        JdbcTemplate jdbcTemplate(DataSource dataSource) {
            return new JdbcTemplate(dataSource);
        }

        @Bean
        Audit audit(JdbcTemplate jdbc) {
            return new Audit(jdbc);
        }

        @Bean
        Orders orders(JdbcTemplate jdbc, Audit audit) {
            return new Orders(jdbc, audit);
        }
    }

    /** Spring's extension first: its test-managed transaction begins before the test's and ends after it. */
    @SpringJUnitConfig(Application.class)
    @org.springframework.test.annotation.DirtiesContext
    @TxGuardTest
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class SpringScenario {
        @Autowired
        Orders orders;
        @Autowired
        Audit audit;
        @Autowired
        DataSource dataSource;

        @Test
        @Order(1)
        void anOrderWithItsAuditAndItsLegacyDao_isSeenInTheTest() throws SQLException {
            orders.place(1, false);
            try (Connection c = dataSource.getConnection()) {
                assertEquals(set(1, 1001, 2001), ids(c));
            }
        }

        @Test
        @Order(2)
        void theNextTestSeesNone_andANestedStepRollsBackAlone() throws SQLException {
            try (Connection c = dataSource.getConnection()) {
                assertEquals(set(), ids(c));
            }
            new org.springframework.transaction.support.TransactionTemplate(
                    new DataSourceTransactionManager(dataSource)).executeWithoutResult(status -> {
                        audit.tryLog(5, false);
                        assertThrows(IllegalStateException.class, () -> audit.tryLog(6, true));
                    });
            try (Connection c = connect()) {
                assertEquals(set(5), ids(c));
            }
        }

        @Test
        @Order(3)
        void aFailedOrder_isRolledBack() {
            assertThrows(IllegalStateException.class, () -> orders.place(7, true));
        }

        @Test
        @Order(4)
        @Transactional
        void insideSpringsOwnTestTransaction() throws SQLException {
            orders.place(8, false);
            try (Connection c = dataSource.getConnection()) {
                assertEquals(set(8, 1008, 2008), ids(c));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aSpringApplicationsTransactions_leaveNothingBehind(Database database) throws Exception {
        database.requireAvailable();
        String rawUrl = database.newRawUrl();
        TxGuardExtensionTest.table = "txg_spring_" + ProcessHandle.current().pid() + "_" + database.ordinal();
        TxGuardExtensionTest.guardedUrl = "jdbc:txguard:" + rawUrl.substring("jdbc:".length());
        try (Connection raw = DriverManager.getConnection(rawUrl)) {
            try (Statement s = raw.createStatement()) {
                s.execute("CREATE TABLE " + TxGuardExtensionTest.table + " (id INT PRIMARY KEY)");
            }
            try {
                EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
                        .selectors(selectClass(SpringScenario.class)).execute();
                assertEquals("", TxGuardExtensionTest.failures(results));
                results.testEvents().assertStatistics(s -> s.started(4).succeeded(4));
                assertEquals(set(), ids(raw));
            } finally {
                try (Statement s = raw.createStatement()) {
                    s.execute("DROP TABLE " + TxGuardExtensionTest.table);
                }
            }
        }
    }
}
