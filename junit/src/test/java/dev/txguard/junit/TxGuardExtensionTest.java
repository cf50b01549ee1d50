package dev.txguard.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.txguard.TestTransaction;
import dev.txguard.TxGuard;
import dev.txguard.it.Database;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * {@code @TxGuardTest} on real test classes (the scenarios below), run through JUnit's own engine on every database;
 * what they left behind is read afterwards from a connection txguard does not guard. The scenarios are legacy code as
 * applications have it: DAOs that begin, commit and restore autocommit on their own, through a HikariCP pool or
 * DriverManager, and know nothing of tests.
 */
class TxGuardExtensionTest {

    private static final AtomicInteger TABLES = new AtomicInteger();

    /** Where the scenarios work: set by the test that runs them, before it runs them. */
    static volatile String guardedUrl;
    static volatile String table;

    // ---------------------------------------------------------------- legacy code, as the scenarios call it

    static Connection connect(String... settings) throws SQLException {
        Properties info = new Properties();
        for (int i = 0; i < settings.length; i += 2) info.setProperty(settings[i], settings[i + 1]);
        return DriverManager.getConnection(guardedUrl, info);
    }

    static HikariDataSource pool() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(guardedUrl);
        config.setMaximumPoolSize(3);
        return new HikariDataSource(config);
    }

    /** A DAO's save in a transaction of its own: begin, insert, commit, restore. */
    static void save(Connection c, int id) throws SQLException {
        c.setAutoCommit(false);
        try {
            insert(c, id);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    static void insert(Connection c, int id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO " + table + " (id) VALUES (?)")) {
            p.setInt(1, id);
            p.executeUpdate();
        }
    }

    static Set<Integer> ids(Connection c) throws SQLException {
        Set<Integer> ids = new TreeSet<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + table)) {
            while (rs.next()) ids.add(rs.getInt(1));
        }
        return ids;
    }

    static Set<Integer> set(Integer... ids) {
        return new TreeSet<>(List.of(ids));
    }

    /** Declared durable in the scenario that calls it: must begin the outermost transaction. */
    static final class Payments {
        static final String DURABLE = "dev.txguard.junit.TxGuardExtensionTest$Payments#send";

        static void send(Connection c, int id) throws SQLException {
            save(c, id);
        }
    }

    // ---------------------------------------------------------------- the scenarios, run only through the tests below

    @TxGuardTest
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class ClassDataScenario {
        static HikariDataSource pool;

        @BeforeAll
        static void openThePoolAndWriteClassData() throws SQLException {
            pool = pool();
            try (Connection c = pool.getConnection()) {
                save(c, 1);
            }
        }

        @AfterAll
        static void classDataIsStillThere() throws SQLException {
            try (Connection c = pool.getConnection()) {
                assertEquals(set(1), ids(c));
            }
            pool.close();
        }

        @Test
        @Order(1)
        void commitsAndTwoHandlesSeeEachOther() throws SQLException {
            try (Connection a = pool.getConnection(); Connection b = pool.getConnection()) {
                assertEquals(set(1), ids(a));
                save(a, 2);
                assertTrue(a.getAutoCommit(), "as in production, after the DAO's restore");
                b.setAutoCommit(false);
                insert(b, 3);
                assertEquals(set(1, 2, 3), ids(a), "one connection under both handles: b's uncommitted row is seen");
                b.rollback();
                b.setAutoCommit(true);
                assertEquals(set(1, 2), ids(a), "b's rollback undid b's transaction only");
            }
        }

        @Test
        @Order(2)
        void startsWithTheClassDataOnly() throws SQLException {
            try (Connection c = connect()) {
                assertEquals(set(1), ids(c));
            }
        }

        @Nested
        @TestInstance(TestInstance.Lifecycle.PER_CLASS)
        class NestedScenario {
            @BeforeAll
            void writeNestedClassData() throws SQLException {
                try (Connection c = pool.getConnection()) {
                    save(c, 4);
                }
            }

            @Test
            void seesBothClassesData() throws SQLException {
                try (Connection c = pool.getConnection()) {
                    assertEquals(set(1, 4), ids(c));
                    save(c, 5);
                }
            }

            @Test
            void startsWithBothClassesDataOnly() throws SQLException {
                try (Connection c = pool.getConnection()) {
                    assertEquals(set(1, 4), ids(c));
                }
            }
        }
    }

    @TxGuardTest
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class LeakScenario {
        @Test
        @Order(1)
        void leavesAScopeOpen() throws SQLException {
            Connection c = connect();
            c.setAutoCommit(false);
            insert(c, 7);
        }

        @Test
        @Order(2)
        void startsClean() throws SQLException {
            try (Connection c = connect()) {
                assertEquals(set(), ids(c));
                assertTrue(c.getAutoCommit());
            }
        }
    }

    @TxGuardTest(openScopes = TxGuardTest.OpenScopes.WARN)
    static class LeakWarnedScenario {
        @Test
        void leavesAScopeOpen() throws SQLException {
            Connection c = connect();
            c.setAutoCommit(false);
            insert(c, 7);
        }
    }

    @TxGuardTest
    static class DurableScenario {
        @Test
        void durableDirectlyUnderTheTest_runsAsOutermost() throws SQLException {
            try (Connection c = connect("txguard.durable", Payments.DURABLE)) {
                Payments.send(c, 8);
                assertEquals(set(8), ids(c));
            }
        }

        @Test
        void durableInsideAScopeTheTestOpened_fails25001() throws SQLException {
            try (Connection c = connect("txguard.durable", Payments.DURABLE)) {
                c.setAutoCommit(false);
                SQLException e = assertThrows(SQLException.class, () -> Payments.send(c, 9));
                assertEquals("25001", e.getSQLState(), e.getMessage());
                c.rollback();
                c.setAutoCommit(true);
            }
        }
    }

    @TxGuardTest
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class RealCommitScenario {
        @Test
        @Order(1)
        @CommitsForReal
        void commitsForReal() throws SQLException {
            try (Connection c = connect()) {
                save(c, 20);
            }
        }

        @Test
        @Order(2)
        void isRolledBack() throws SQLException {
            try (Connection c = connect()) {
                save(c, 21);
                assertEquals(set(20, 21), ids(c));
            }
        }
    }

    static class MethodLevelScenario {
        @Test
        @TxGuardTest
        void inATestTransaction() throws SQLException {
            try (Connection c = connect()) {
                save(c, 30);
            }
        }

        @Test
        void withoutOne() throws SQLException {
            try (Connection c = connect()) {
                save(c, 31);
            }
        }
    }

    /** What the scenario's callbacks sent, in order. */
    static final List<String> SENT = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** An order DAO that mails a confirmation once its transaction commits. */
    static void saveAndMail(Connection c, int id) throws SQLException {
        c.setAutoCommit(false);
        try {
            insert(c, id);
            TxGuard.onCommit(c, () -> SENT.add("mail " + id));
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    @TxGuardTest
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class OnCommitScenario {
        @Test
        @Order(1)
        void runAsInProductionWhenTheOrderCommits() throws SQLException {
            try (Connection c = connect()) {
                saveAndMail(c, 40);
            }
            assertEquals(List.of("mail 40"), SENT);
        }

        @Test
        @Order(2)
        void capturedWhenTheTestAsks(TestTransaction.OnCommitCallbacks callbacks) throws SQLException {
            try (Connection c = connect()) {
                saveAndMail(c, 41);
            }
            assertEquals(List.of("mail 40"), SENT, "held, not run");
            assertEquals(1, callbacks.size());
            callbacks.runAll();
            assertEquals(List.of("mail 40", "mail 41"), SENT);
        }

        @Test
        @Order(3)
        @CommitsForReal
        void notInATestTransaction(TestTransaction.OnCommitCallbacks callbacks) {
            throw new AssertionError("not run: its parameter cannot be resolved");
        }
    }

    /** Runs legacy code on the common pool, as an application's async service would. */
    static void onAnotherThread(SqlWork work) throws Exception {
        try {
            java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    work.run();
                } catch (SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }).get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof java.util.concurrent.CompletionException ? (Exception) cause.getCause() : (Exception) cause;
        }
    }

    interface SqlWork {
        void run() throws SQLException;
    }

    @TxGuardTest
    static class OtherThreadsJoinScenario {
        @Test
        void whatAnotherThreadCommitsIsInTheTestTransaction() throws Exception {
            onAnotherThread(() -> {
                try (Connection c = connect()) {
                    save(c, 50);
                }
            });
            try (Connection c = connect()) {
                assertEquals(set(50), ids(c));
            }
        }
    }

    @TxGuardTest(otherThreads = TxGuardTest.OtherThreads.REFUSE)
    static class OtherThreadsRefusedScenario {
        @Test
        void anotherThreadsConnectionIsRefused() throws Exception {
            SQLException e = assertThrows(SQLException.class, () -> onAnotherThread(() -> {
                try (Connection c = connect()) {
                    save(c, 51);
                }
            }));
            assertTrue(e.getMessage().contains("which refuses other threads than its own"), e.getMessage());
        }
    }

    /** Holds both tests of the parallel scenario until each has written its row: they run at the same time. */
    static volatile java.util.concurrent.CyclicBarrier bothWrote;

    static class ParallelScenario {
        private static Set<Integer> writeAndLook(int id) throws Exception {
            try (Connection c = connect()) {
                save(c, id);
                bothWrote.await(30, java.util.concurrent.TimeUnit.SECONDS);
                return ids(c);
            }
        }

        @Test
        @TxGuardTest
        void first() throws Exception {
            assertEquals(set(60), writeAndLook(60), "its own row only: the other test's is in its own transaction");
        }

        @Test
        @TxGuardTest
        void second() throws Exception {
            assertEquals(set(61), writeAndLook(61));
        }
    }

    /** Released when the other test of the scenario below has failed: the one inside its test then ends. */
    static volatile java.util.concurrent.CountDownLatch otherFailed;

    /** Runs after TxGuardExtension's afterEach, even when a beforeEach failed. */
    static final class ReleaseOnFailure implements org.junit.jupiter.api.extension.AfterEachCallback {
        @Override
        public void afterEach(org.junit.jupiter.api.extension.ExtensionContext context) {
            if (context.getExecutionException().isPresent()) otherFailed.countDown();
        }
    }

    @TxGuardTest
    @org.junit.jupiter.api.extension.ExtendWith(ReleaseOnFailure.class)
    static class ParallelUnderAClassTransactionScenario {
        @Test
        void first() throws Exception {
            otherFailed.await(30, java.util.concurrent.TimeUnit.SECONDS);
        }

        @Test
        void second() throws Exception {
            otherFailed.await(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private static EngineExecutionResults executeInParallel(Class<?> scenario) {
        return EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
                .configurationParameter("junit.jupiter.execution.parallel.mode.default", "concurrent")
                .configurationParameter("junit.jupiter.execution.parallel.config.strategy", "fixed")
                .configurationParameter("junit.jupiter.execution.parallel.config.fixed.parallelism", "2")
                .selectors(selectClass(scenario)).execute();
    }

    // ---------------------------------------------------------------- the tests

    /** A database with a fresh table for one scenario run; what is in it afterwards is read past txguard. */
    private static final class Run implements AutoCloseable {
        final Database database;
        final String rawUrl;
        final Connection raw;

        Run(Database database) throws SQLException {
            database.requireAvailable();
            this.database = database;
            this.rawUrl = database.newRawUrl();
            this.raw = DriverManager.getConnection(rawUrl);
            table = "txg_junit_" + ProcessHandle.current().pid() + "_" + TABLES.incrementAndGet();
            guardedUrl = "jdbc:txguard:" + rawUrl.substring("jdbc:".length());
            try (Statement s = raw.createStatement()) {
                s.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY)");
            }
        }

        EngineExecutionResults execute(Class<?> scenario) {
            return EngineTestKit.engine("junit-jupiter").selectors(selectClass(scenario)).execute();
        }

        Set<Integer> left() throws SQLException {
            return ids(raw);
        }

        @Override
        public void close() throws SQLException {
            try (Statement s = raw.createStatement()) {
                s.execute("DROP TABLE " + table);
            } finally {
                raw.close();
            }
        }
    }

    static String failures(EngineExecutionResults results) {
        return results.allEvents().failed().stream().map(TxGuardExtensionTest::describe).collect(Collectors.joining("\n"));
    }

    private static String describe(Event event) {
        Throwable t = event.getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable).orElse(null);
        return event.getTestDescriptor().getDisplayName() + ": " + t;
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void classDataAndEachTest_areRolledBack_andTestsSeeOnlyTheClassData(Database database) throws Exception {
        try (Run run = new Run(database)) {
            EngineExecutionResults results = run.execute(ClassDataScenario.class);
            assertEquals("", failures(results));
            results.testEvents().assertStatistics(s -> s.started(4).succeeded(4));
            assertEquals(set(), run.left());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aTestThatLeavesAScopeOpen_failsNamingWhereItBegan_andTheNextStartsClean(Database database) throws Exception {
        try (Run run = new Run(database)) {
            EngineExecutionResults results = run.execute(LeakScenario.class);
            results.testEvents().assertStatistics(s -> s.started(2).succeeded(1).failed(1));
            String failure = failures(results);
            assertTrue(failure.startsWith("leavesAScopeOpen(): java.lang.AssertionError: txguard: LeakScenario.leavesAScopeOpen()"
                    + " ended with 1 transaction scope(s) of the application open, begun at"), failure);
            assertTrue(failure.contains("TxGuardExtensionTest$LeakScenario.leavesAScopeOpen(TxGuardExtensionTest.java:"),
                    failure);
            assertEquals(set(), run.left());

            EngineExecutionResults warned = run.execute(LeakWarnedScenario.class);
            warned.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
            assertEquals(set(), run.left());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void durable_runsDirectlyUnderTheTest_andFails25001InsideAScopeOfIt(Database database) throws Exception {
        try (Run run = new Run(database)) {
            EngineExecutionResults results = run.execute(DurableScenario.class);
            assertEquals("", failures(results));
            results.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
            assertEquals(set(), run.left());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aTestThatCommitsForReal_leavesWhatItCommitted_andTheOthersNothing(Database database) throws Exception {
        try (Run run = new Run(database)) {
            EngineExecutionResults results = run.execute(RealCommitScenario.class);
            assertEquals("", failures(results));
            results.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
            assertEquals(set(20), run.left());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void onCommitCallbacks_runWhenTheOrderCommits_orAreCapturedWhenTheTestAsks(Database database) throws Exception {
        SENT.clear();
        try (Run run = new Run(database)) {
            EngineExecutionResults results = run.execute(OnCommitScenario.class);
            results.testEvents().assertStatistics(s -> s.started(3).succeeded(2).failed(1));
            String failure = failures(results);
            assertTrue(failure.startsWith("notInATestTransaction(OnCommitCallbacks): org.junit.jupiter.api.extension"
                    + ".ParameterResolutionException: txguard: notInATestTransaction asks for the on-commit callbacks"), failure);
            assertEquals(List.of("mail 40", "mail 41"), SENT);
            assertEquals(set(), run.left());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void otherThreads_joinTheTestTransaction_orAreRefusedWhenTheTestSaysSo(Database database) throws Exception {
        try (Run run = new Run(database)) {
            for (Class<?> scenario : List.of(OtherThreadsJoinScenario.class, OtherThreadsRefusedScenario.class)) {
                EngineExecutionResults results = run.execute(scenario);
                assertEquals("", failures(results));
                results.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
            }
            assertEquals(set(), run.left());
        }
    }

    /** Not on Derby and SQLite, where one transaction's rows keep the other's reads (Derby) or writes (SQLite) waiting. */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void testsRunningInParallel_eachHaveATransactionOfTheirOwn(Database database) throws Exception {
        try (Run run = new Run(database)) {
            bothWrote = new java.util.concurrent.CyclicBarrier(2);
            EngineExecutionResults results = executeInParallel(ParallelScenario.class);
            assertEquals("", failures(results));
            results.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
            assertEquals(set(), run.left());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, names = "H2")
    void testsRunningInParallel_underOneClassTransaction_failWithWhatToDo(Database database) throws Exception {
        try (Run run = new Run(database)) {
            otherFailed = new java.util.concurrent.CountDownLatch(1);
            EngineExecutionResults results = executeInParallel(ParallelUnderAClassTransactionScenario.class);
            results.testEvents().assertStatistics(s -> s.started(2).succeeded(1).failed(1));
            String failure = failures(results);
            assertTrue(failure.contains("the tests under one class transaction are savepoints on one connection, one"
                    + " test at a time"), failure);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void onAMethod_onlyThatTestIsRolledBack(Database database) throws Exception {
        try (Run run = new Run(database)) {
            EngineExecutionResults results = run.execute(MethodLevelScenario.class);
            assertEquals("", failures(results));
            results.testEvents().assertStatistics(s -> s.started(2).succeeded(2));
            assertEquals(set(31), run.left());
        }
    }
}
