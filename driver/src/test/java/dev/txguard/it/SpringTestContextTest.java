package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ContextConfiguration;
import org.springframework.test.context.junit.jupiter.SpringExtension;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Transactional;

/**
 * Test classes whose transactions Spring's test context manages ({@code @Transactional} on a test under
 * {@code SpringExtension}), run through JUnit's engine as a build runs them: the test context begins each test's
 * transaction before the test method and rolls it back after it, in two sibling calls. That rollback is the
 * transaction's owner's, not a stray one, and a legacy DAO called from the test nests in the test's transaction.
 */
class SpringTestContextTest {

    /** The database of the run under way: the test classes below are run by this class's tests, one at a time. */
    private static TestDb current;

    @ParameterizedTest
    @EnumSource(Database.class)
    void testManagedTransactions_rolledBackAfterEachTest_noStrayRollback_nothingLeftBehind(Database database)
            throws Exception {
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start()) {
            current = db;
            Events tests = EngineTestKit.engine("junit-jupiter").selectors(selectClass(LegacyDaoInATransactionalTest.class))
                    .execute().testEvents();
            assertEquals("", tests.failed().stream().map(e -> e.getTestDescriptor().getDisplayName() + ": "
                    + e.getPayload(org.junit.platform.engine.TestExecutionResult.class)
                            .flatMap(org.junit.platform.engine.TestExecutionResult::getThrowable).orElse(null))
                    .reduce("", String::concat), "the test class's own failures");
            tests.assertStatistics(stats -> stats.started(3).succeeded(3).failed(0));
            db.assertCommitted(); // every test's work, the DAOs' included, was rolled back with its test
            assertEquals("", log.all(), "nothing to say about a test context's transactions");
        } finally {
            current = null;
        }
    }

    /** A test class as an application's suite has it: a guarded pool, Spring's transaction manager, a legacy DAO. */
    @ExtendWith(SpringExtension.class)
    @ContextConfiguration(classes = LegacyDaoInATransactionalTest.Beans.class)
    @DirtiesContext // each run has a database of its own
    @Transactional
    static class LegacyDaoInATransactionalTest {

        @Configuration
        static class Beans {
            @Bean(destroyMethod = "close")
            GuardedPool dataSource() {
                return current.guardedPool(true);
            }

            @Bean
            PlatformTransactionManager transactionManager(DataSource dataSource) {
                return new DataSourceTransactionManager(dataSource);
            }

            @Bean
            JdbcTemplate jdbcTemplate(DataSource dataSource) {
                return new JdbcTemplate(dataSource);
            }
        }

        @org.springframework.beans.factory.annotation.Autowired
        DataSource dataSource;
        @org.springframework.beans.factory.annotation.Autowired
        JdbcTemplate jdbc;

        @Test
        void aDaoNestsInTheTestsTransaction() throws SQLException {
            jdbc.update("INSERT INTO " + current.table + " (id, note) VALUES (1, 'the test')");
            new Legacy.Dao(current.table).saveClassic(connection(), 2, 3); // its commit releases a savepoint
            assertEquals(3, rows(), "the test sees its own work and the DAO's");
            current.assertCommitted(); // nothing committed: the DAO's commit was its scope's
        }

        @Test
        void aDaoThatRollsBackUndoesOnlyItsOwnWork() throws SQLException {
            jdbc.update("INSERT INTO " + current.table + " (id, note) VALUES (4, 'the test')");
            new Legacy.Dao(current.table).saveThenUndo(connection(), 5);
            assertEquals(1, rows(), "the test's row survives the DAO's rollback");
        }

        @Test
        void aFailingDaoLeavesTheTestsWork() throws SQLException {
            jdbc.update("INSERT INTO " + current.table + " (id, note) VALUES (6, 'the test')");
            assertThrows(SQLException.class, () -> new Legacy.Dao(current.table).saveClassic(connection(), 7, 6));
            assertEquals(1, rows());
        }

        private Connection connection() {
            return DataSourceUtils.getConnection(dataSource);
        }

        private int rows() {
            return jdbc.queryForObject("SELECT COUNT(*) FROM " + current.table, Integer.class);
        }
    }
}
