package dev.txguard;

import dev.txguard.internal.TestTransactions;
import java.sql.SQLException;
import java.util.List;

/**
 * A transaction that a test runs in and that is rolled back at its end, whatever the code under test commits: the
 * programmatic form of {@code @dev.txguard.junit.TxGuardTest}, for TestNG, a plain {@code main} or any other runner.
 *
 * <pre>{@code
 * try (TestTransaction test = TestTransaction.begin("transfer moves money")) {
 *     bank.transfer(1, 2, 100);      // commits, as far as the bank can tell
 *     assertEquals(100, balanceOf(2)); // seen on any guarded connection to the database
 * }                                  // rolled back: nothing is left behind
 * }</pre>
 *
 * <p>While it is open, every connection txguard guards for the same database (same URL and user), from a
 * {@code jdbc:txguard:} URL or a {@link TxGuardDataSource}, opened in it on any thread, is a handle on one physical
 * connection inside this transaction. The application's outermost begin on a handle is a savepoint under it: its
 * commit releases the savepoint (every handle sees the work, as after a commit), its rollback rolls back to it,
 * and {@code getAutoCommit()} answers what it would in production. Durable methods that begin directly under it run
 * as outermost; nested in a scope the test opened, they fail with SQLState 25001, as in production. What would
 * commit the test transaction implicitly (DDL on H2, MariaDB and MySQL) is refused with SQLState 25007. The physical
 * connection is kept for the next test transaction. See docs/testing.md.
 */
public final class TestTransaction implements AutoCloseable {

    private final TestTransactions.Level level;

    private TestTransaction(TestTransactions.Level level) {
        this.level = level;
    }

    /**
     * Begins a test transaction on the calling thread, which works for it from now on, as do the threads it starts;
     * {@code name} (the test's) appears in txguard's messages. Tests that run at the same time each begin their own,
     * with a connection of their own per database.
     */
    public static TestTransaction begin(String name) throws SQLException {
        return new TestTransaction(TestTransactions.beginLevel(null, name, true));
    }

    /**
     * A test transaction inside this one, which must be the innermost open: ending it rolls back to where it began,
     * and this one carries on (a test class's data, then each test under it).
     */
    public TestTransaction nested(String name) throws SQLException {
        return new TestTransaction(TestTransactions.beginLevel(level, name, true));
    }

    /**
     * A level inside this one where connections commit for real, for a test that needs real commits: connections it
     * opens are the application's own again, and it owes its own clean-up. The connections of this transaction
     * (a pool opened in it) refuse to work inside it, as their work would be rolled back after all.
     */
    public TestTransaction commitsForReal(String name) throws SQLException {
        return new TestTransaction(TestTransactions.beginLevel(level, name, false));
    }

    /**
     * From now until this test transaction ends, the on-commit callbacks ({@link TxGuard#onCommit}) that would run on
     * its connections are held instead, for the test to inspect and run (Django's {@code captureOnCommitCallbacks}).
     * Without it they run as in production: when the application's outermost scope on a connection commits.
     */
    public OnCommitCallbacks captureOnCommitCallbacks() {
        return new OnCommitCallbacks(TestTransactions.capture(level));
    }

    /** The on-commit callbacks a test transaction holds, in the order they were due. */
    public static final class OnCommitCallbacks {
        private final List<Runnable> held;

        private OnCommitCallbacks(List<Runnable> held) {
            this.held = held;
        }

        /** The callbacks held and not yet run. */
        public List<Runnable> held() {
            synchronized (held) {
                return List.copyOf(held);
            }
        }

        public int size() {
            return held.size();
        }

        /**
         * Runs the callbacks held, in order, and those they register, until none is left; the first failure is
         * thrown after the rest ran.
         */
        public void runAll() {
            RuntimeException failure = null;
            for (Runnable next = take(); next != null; next = take()) {
                try {
                    next.run();
                } catch (RuntimeException e) {
                    if (failure == null) failure = e; else failure.addSuppressed(e);
                }
            }
            if (failure != null) throw failure;
        }

        private Runnable take() {
            synchronized (held) {
                return held.isEmpty() ? null : held.remove(0);
            }
        }
    }

    /**
     * Connections used on another thread than the one that began this test transaction are refused (SQLState 25000,
     * naming the thread) instead of joining it; levels begun inside it inherit this. By default they join.
     */
    public TestTransaction refuseOtherThreads() {
        level.refuseOtherThreads(true);
        return this;
    }

    /**
     * How long a thread waits for the test transaction's connection while another thread is in the middle of a call
     * on it (10 seconds by default); past it the waiting thread fails with 25000, naming the other thread and where it
     * is. Levels begun inside this one inherit it.
     */
    public TestTransaction waitForTheConnection(java.time.Duration bound) {
        level.waitForTheConnection(bound.toMillis());
        return this;
    }

    public String name() {
        return level.name();
    }

    /**
     * Rolls back everything done in this test transaction, on every database it reached, and returns where each
     * transaction scope that the application left open began (rolled back as well; an empty list when none was).
     *
     * @throws SQLException when a deferred constraint does not hold at the end (PostgreSQL), which in production
     *     would make the commit fail; the rollback is done all the same
     * @throws IllegalStateException when it has ended, or a test transaction inside it is still open
     */
    public List<String> end() throws SQLException {
        TestTransactions.Ending ending = TestTransactions.endLevel(level);
        if (ending.failure != null) throw ending.failure;
        return ending.scopesLeftOpen;
    }

    /**
     * {@link #end()}, and fails (SQLState 25000) when the application left transaction scopes open, naming where
     * they began: in production their work would never have been committed.
     */
    @Override
    public void close() throws SQLException {
        List<String> leftOpen = end();
        if (!leftOpen.isEmpty()) {
            throw new SQLException("txguard: " + name() + " ended with " + leftOpen.size() + " transaction scope(s) open,"
                    + " begun at " + String.join("; ", leftOpen) + ". In production their work would never be committed;"
                    + " they are rolled back", "25000");
        }
    }
}
