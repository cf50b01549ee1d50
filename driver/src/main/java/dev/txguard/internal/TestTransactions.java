package dev.txguard.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Test transactions (dev.txguard.TestTransaction, and through it the JUnit extension): while one is open, every
 * connection txguard guards for the same database (the same URL and user, as the database reports them) is a
 * handle ({@link PinnedConnection}) on one physical connection, whose transaction is the test's. Levels nest: the
 * outermost is the real transaction (a test class's, or a test's), each level inside it a savepoint (a test under
 * its class). Ending a level rolls back to where it began; ending the outermost rolls back. The physical connection
 * of a database is kept for the next test, which is what makes a test transaction cheaper than cleaning up.
 *
 * <p>The application's transactions nest under the test's: each handle's transaction is a savepoint inside it (see
 * PinnedConnection), so its outermost begin, commit and rollback behave as in production while nothing reaches the
 * database for good. A level that commits for real ({@link #beginLevel} with {@code pins} false) opens connections
 * of their own again, and refuses the handles of the levels around it.
 *
 * <p>Levels begin and end on the test's thread; connections are opened on any. Everything here runs when a level or a
 * connection begins or ends, under this class's lock: nothing on a statement's path.
 */
public final class TestTransactions {

    private TestTransactions() {}

    /** A level is open: connections opened now may be pinned. Read without the lock as the cheap first test. */
    static volatile boolean open;

    private static final List<Level> LEVELS = new ArrayList<>();
    private static final Map<String, Database> DATABASES = new HashMap<>();
    /** A jdbc:txguard: URL's real URL and user to its database's key, so that a second connect opens nothing. */
    private static final Map<String, String> KEY_OF_URL = new HashMap<>();
    /** A DataSource txguard wraps to its database's key, so that a second getConnection borrows nothing. */
    private static final Map<Object, Map<String, String>> KEY_OF_SOURCE = new IdentityHashMap<>();
    private static int nextHandle = 1;
    static final long DEFAULT_WAIT_MILLIS = 10_000;

    /** One level of a test transaction: a test class's, a test's. */
    public static final class Level {
        final String name;
        final boolean pins;
        final int index;
        boolean ended;
        /** On-commit callbacks held instead of run, while the test captures them; null when it does not. */
        List<Runnable> captured;
        /** The thread that began it: the test's. */
        final Thread thread = Thread.currentThread();
        /** Connections of other threads are refused instead of joining (see Database.checkUsable). */
        volatile boolean refusesOtherThreads;
        /** How long a thread waits for the connection while another is using it (see Database.use). */
        volatile long waitMillis = DEFAULT_WAIT_MILLIS;

        private Level(String name, boolean pins, int index, Level parent) {
            this.name = name;
            this.pins = pins;
            this.index = index;
            if (parent != null) {
                refusesOtherThreads = parent.refusesOtherThreads;
                waitMillis = parent.waitMillis;
            }
        }

        /** Connections used on other threads than the one that began this level are refused (25000) instead. */
        public void refuseOtherThreads(boolean refuse) {
            refusesOtherThreads = refuse;
        }

        /** How long a thread waits for the connection while another thread is in the middle of a call on it. */
        public void waitForTheConnection(long millis) {
            if (millis <= 0) {
                throw new IllegalArgumentException("txguard: the wait for a test transaction's connection must be"
                        + " positive (milliseconds); it was " + millis);
            }
            waitMillis = millis;
        }

        public String name() {
            return name;
        }

        /** The level is open and innermost: what opens inside it must end before it does. */
        public boolean isInnermost() {
            synchronized (TestTransactions.class) {
                return !ended && !LEVELS.isEmpty() && LEVELS.get(LEVELS.size() - 1) == this;
            }
        }
    }

    /** What ending a level found: the scopes the application left open, which the rollback ended too. */
    public static final class Ending {
        public final List<String> scopesLeftOpen;
        public final SQLException failure;

        Ending(List<String> scopesLeftOpen, SQLException failure) {
            this.scopesLeftOpen = scopesLeftOpen;
            this.failure = failure;
        }
    }

    /**
     * Opens a level inside {@code parent} (null: a test transaction of its own). {@code pins} false: connections
     * opened inside it are not pinned, and commit for real.
     */
    public static Level beginLevel(Level parent, String name, boolean pins) throws SQLException {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("txguard: a test transaction needs a name");
        synchronized (TestTransactions.class) {
            Level innermost = LEVELS.isEmpty() ? null : LEVELS.get(LEVELS.size() - 1);
            if (parent == null && innermost != null) {
                throw Errors.state("the test transaction of " + name + " cannot begin while that of " + LEVELS.get(0).name
                        + " is open: tests that run at the same time (parallel execution) each need their own, which"
                        + " this version does not give yet. Run these tests one at a time, or nest the second"
                        + " in the first.");
            }
            if (parent != null && parent != innermost) {
                throw Errors.state("the test transaction of " + name + " can only begin inside the innermost open one ("
                        + (innermost == null ? "none is open" : innermost.name) + "), not inside " + parent.name);
            }
            Level level = new Level(name, pins, LEVELS.size(), parent);
            LEVELS.add(level);
            open = true;
            for (Database d : DATABASES.values()) d.levelBegun(level);
            return level;
        }
    }

    /** Ends the innermost level: rolls back what was done in it, on every database it pinned. */
    public static Ending endLevel(Level level) {
        synchronized (TestTransactions.class) {
            if (level.ended) throw new IllegalStateException("txguard: the test transaction of " + level.name + " has ended");
            if (LEVELS.get(LEVELS.size() - 1) != level) {
                throw new IllegalStateException("txguard: the test transaction of " + level.name + " cannot end while"
                        + " that of " + LEVELS.get(LEVELS.size() - 1).name + ", inside it, is open");
            }
            List<String> leftOpen = new ArrayList<>();
            SQLException failure = null;
            for (Database d : DATABASES.values()) {
                try {
                    d.levelEnding(level, leftOpen);
                } catch (SQLException e) {
                    if (failure == null) failure = e; else failure.addSuppressed(e);
                }
            }
            level.ended = true;
            LEVELS.remove(LEVELS.size() - 1);
            open = !LEVELS.isEmpty();
            return new Ending(leftOpen, failure);
        }
    }

    /**
     * From now until the level ends, on-commit callbacks that would run on its connections are held in the returned
     * list instead (Django's captureOnCommitCallbacks). The list is the test's to read and run; it is synchronized.
     */
    public static List<Runnable> capture(Level level) {
        synchronized (TestTransactions.class) {
            if (level.ended) throw new IllegalStateException("txguard: the test transaction of " + level.name + " has ended");
            if (level.captured == null) level.captured = java.util.Collections.synchronizedList(new ArrayList<>());
            return level.captured;
        }
    }

    /** An on-commit callback of a pinned connection is due: true when a test captures it, which then holds it. */
    static boolean captured(Runnable callback) {
        synchronized (TestTransactions.class) {
            for (int i = LEVELS.size() - 1; i >= 0; i--) {
                List<Runnable> captured = LEVELS.get(i).captured;
                if (captured != null) {
                    captured.add(callback);
                    return true;
                }
            }
            return false;
        }
    }

    /** The bound of the innermost level (see Database.use). */
    private static long waitMillis() {
        return LEVELS.isEmpty() ? DEFAULT_WAIT_MILLIS : LEVELS.get(LEVELS.size() - 1).waitMillis;
    }

    private static Level pinningLevel() {
        if (LEVELS.isEmpty()) return null;
        Level innermost = LEVELS.get(LEVELS.size() - 1);
        return innermost.pins ? innermost : null;
    }

    /** See Engine.checkPartOfAnOpenTest: throws when the innermost level pins. */
    static void refuseUnpinned() throws SQLException {
        synchronized (TestTransactions.class) {
            Level level = pinningLevel();
            if (level == null) return;
            throw Errors.state("this connection was opened outside the test transaction of " + level.name + " (before it"
                    + " began, or in a test that commits for real), so it is not part of it: what it commits would stay"
                    + " in the database after the test. Open connections and pools inside the test transaction (in the"
                    + " test, in @BeforeEach, or in @BeforeAll of a @TxGuardTest class), or close them before it begins.");
        }
    }

    /** Opens a physical connection for the first handle of a database. */
    interface Opener {
        Connection open() throws SQLException;
    }

    /**
     * A jdbc:txguard: connect while a level is open: a handle on its database's pinned connection, or null when the
     * innermost level does not pin (the connect goes on as usual). The first connect of a database opens its physical
     * connection, outside the lock: a pool's own threads may be connecting meanwhile.
     */
    static Connection connect(String realUrl, Properties info, Config config, Opener opener) throws SQLException {
        String urlKey = realUrl + '\u0000' + (info == null ? "" : info.getProperty("user", ""));
        synchronized (TestTransactions.class) {
            if (pinningLevel() == null) return null;
            Database known = known(KEY_OF_URL.get(urlKey));
            if (known != null) return known.newHandle(config);
        }
        Connection physical = opener.open();
        synchronized (TestTransactions.class) {
            Database database = pin(physical);
            KEY_OF_URL.put(urlKey, database.key);
            return database.newHandle(config);
        }
    }

    /**
     * A wrapped DataSource's getConnection while a level is open: as {@link #connect}, keyed by the data source and
     * user, so that a pool of one connection is not asked for a second. A connection the data source hands out
     * guarded already (a pool over a jdbc:txguard: URL) is returned as it is.
     */
    static Connection connectThrough(Object source, String user, Config config, Opener borrow) throws SQLException {
        String sourceKey = user == null ? "" : user;
        synchronized (TestTransactions.class) {
            if (pinningLevel() == null) return null;
            Map<String, String> keys = KEY_OF_SOURCE.get(source);
            Database known = keys == null ? null : known(keys.get(sourceKey));
            if (known != null) return known.newHandle(config);
        }
        Connection borrowed = borrow.open();
        if (borrowed.isWrapperFor(TxConnection.class)) return borrowed;
        synchronized (TestTransactions.class) {
            Database database = pin(borrowed);
            KEY_OF_SOURCE.computeIfAbsent(source, s -> new HashMap<>()).put(sourceKey, database.key);
            return database.newHandle(config);
        }
    }

    private static Database known(String key) {
        return key == null ? null : DATABASES.get(key);
    }

    /**
     * The database of a physical connection just opened: a new one, which this connection is kept for, or one
     * pinned already through another URL or data source, in which case this connection is closed again.
     */
    private static Database pin(Connection physical) throws SQLException {
        String key;
        Dialect dialect;
        try {
            java.sql.DatabaseMetaData meta = physical.getMetaData();
            key = meta.getURL() + '\u0000' + meta.getUserName();
            dialect = Dialect.forProduct(meta.getDatabaseProductName());
        } catch (SQLException | RuntimeException e) {
            physical.close();
            throw e;
        }
        Database known = DATABASES.get(key);
        if (known != null) {
            physical.close();
            return known;
        }
        Database database = new Database(key, physical, dialect);
        database.join();
        DATABASES.put(key, database);
        return database;
    }

    /**
     * A savepoint on a pinned physical connection: a level's, a handle's transaction, a nested scope of its engine, or
     * one the application set. The database's savepoints are one stack, which the handles' interleave on; see
     * {@link Database#release} and {@link Database#rollbackTo} for how each keeps its meaning.
     */
    static final class Mark implements Savepoint {
        /** What the application named it (or null); {@link #physicalName} is unique on the connection. */
        final String name;
        final String physicalName;
        final int id;
        /** Whose it is: a PinnedConnection, or a Level. */
        final Object owner;
        Savepoint savepoint;
        /** Released by its owner; still set on the connection while a savepoint above it is. */
        boolean released;
        /** Gone from the connection: its level ended, or its owner released it. */
        boolean removed;

        Mark(String name, String physicalName, int id, Object owner) {
            this.name = name;
            this.physicalName = physicalName;
            this.id = id;
            this.owner = owner;
        }

        @Override
        public int getSavepointId() throws SQLException {
            if (name != null) throw new SQLException("txguard: a named savepoint has no id", "3B000");
            return id;
        }

        @Override
        public String getSavepointName() throws SQLException {
            if (name == null) throw new SQLException("txguard: an unnamed savepoint has no name", "3B000");
            return name;
        }
    }

    /** A database whose connections are pinned: its physical connection, its handles, and its stack of savepoints. */
    static final class Database {
        private static final System.Logger LOG = System.getLogger("dev.txguard");

        final String key;
        final Connection physical;
        final Dialect dialect;
        private final List<PinnedConnection> handles = new ArrayList<>();
        /** The savepoints set on the physical connection, oldest first. */
        private final List<Mark> marks = new ArrayList<>();
        /** The savepoint of each open level inside the outermost pinning one, by level index. */
        private final Map<Level, Mark> levelMarks = new IdentityHashMap<>();
        /** The index of the level whose transaction the physical connection is in; -1 between test transactions. */
        private int since = -1;
        /** The thread in the middle of a call on the physical connection, or null (see {@link #use}). */
        private Thread user;
        private int nextMark = 1;

        Database(String key, Connection physical, Dialect dialect) {
            this.key = key;
            this.physical = physical;
            this.dialect = dialect;
        }

        Connection newHandle(Config config) throws SQLException {
            PinnedConnection handle = new PinnedConnection(this, nextHandle++);
            Engine engine = new Engine(handle, config, dialect, Engine.FROM_A_DRIVER);
            handle.engine = engine;
            handles.add(handle);
            return new TxConnection(handle, engine);
        }

        // ------------------------------------------------------------ the stack of savepoints

        Mark set(String name, String physicalName, Object owner) throws SQLException {
            synchronized (TestTransactions.class) {
                int id = nextMark++;
                // Unique on the connection: a handle's next transaction must not reuse the name of its last one's
                // savepoint, which may still be set below another's (MariaDB replaces a savepoint of the same name).
                Mark mark = new Mark(name, physicalName + "_" + id, id, owner);
                mark.savepoint = physical.setSavepoint(mark.physicalName);
                marks.add(mark);
                return mark;
            }
        }

        /**
         * Its owner is done with it. Released on the connection only when nothing was set above it since, as a
         * release destroys the savepoints above it on most databases: one set above by another handle (whose
         * transaction began after this one, and is still open) keeps it until that one goes.
         */
        void release(Mark mark) throws SQLException {
            synchronized (TestTransactions.class) {
                if (mark.removed || mark.released) return;
                mark.released = true;
                while (!marks.isEmpty() && marks.get(marks.size() - 1).released) {
                    Mark top = marks.remove(marks.size() - 1);
                    top.removed = true;
                    physical.releaseSavepoint(top.savepoint);
                }
            }
        }

        /**
         * Rolls back to a savepoint, which stays. Everything done since on this connection is undone, by every
         * handle: where another handle's savepoint was set since (its transaction began after this one's, and is
         * open), that handle's work is undone too, which on connections of their own would not be. That is said
         * once per pair of owners, and the other handle's savepoint is set again, so that its own rollback still
         * undoes only what it does from here on.
         */
        void rollbackTo(Mark mark) throws SQLException {
            synchronized (TestTransactions.class) {
                rollBackTo(mark);
            }
        }

        private void rollBackTo(Mark mark) throws SQLException {
            if (mark.removed) return;
            physical.rollback(mark.savepoint);
            int at = marks.indexOf(mark);
            List<Mark> above = new ArrayList<>(marks.subList(at + 1, marks.size()));
            marks.subList(at + 1, marks.size()).clear();
            for (Mark m : above) {
                if (m.released) {
                    m.removed = true;
                    continue;
                }
                if (m.owner != mark.owner && !(m.owner instanceof Level)) warnInterleaved(mark, m);
                m.savepoint = physical.setSavepoint(m.physicalName);
                marks.add(m);
            }
        }

        private void warnInterleaved(Mark rolledBack, Mark other) {
            String by = describe(rolledBack.owner);
            String undone = describe(other.owner);
            SaidOnce.warn(dialect + ": test transaction rollback by " + by + " undid " + undone, () -> "txguard: in the"
                    + " test transaction of " + innermostName() + ", a rollback on " + by + " also undid what " + undone
                    + " did since its own transaction began: under a test transaction both are one connection, where"
                    + " in production each has its own and this rollback would undo only its own work");
        }

        private static String describe(Object owner) {
            if (owner instanceof PinnedConnection) {
                String beganAt = ((PinnedConnection) owner).openScopeBeganAt();
                return beganAt == null ? "a connection" : "the connection whose transaction began at " + beganAt;
            }
            return "the test level " + ((Level) owner).name;
        }

        // ------------------------------------------------------------ one thread at a time

        /**
         * The calling thread starts using the physical connection (a statement, a transaction call): it waits while
         * another thread is in the middle of one, up to the test's bound, and then fails naming that thread and where
         * it is. Drivers are not made for two threads' calls at once on one connection.
         */
        void use() throws SQLException {
            Thread me = Thread.currentThread();
            synchronized (TestTransactions.class) {
                if (user == null || user == me) {
                    user = me;
                    return;
                }
                long bound = waitMillis();
                long deadline = System.nanoTime() + bound * 1_000_000L;
                while (user != null && user != me) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) throw waitedTooLong(user, bound);
                    try {
                        TestTransactions.class.wait(Math.max(1, left / 1_000_000L));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw Errors.state("interrupted while waiting for the test transaction's connection", e);
                    }
                }
                user = me;
            }
        }

        /** For tests: the thread in the middle of a call on the physical connection, or null. */
        Thread user() {
            synchronized (TestTransactions.class) {
                return user;
            }
        }

        /** The calling thread's use of the physical connection ended; another thread may go on. */
        void done() {
            synchronized (TestTransactions.class) {
                if (user != Thread.currentThread()) return;
                user = null;
                TestTransactions.class.notifyAll();
            }
        }

        private SQLException waitedTooLong(Thread holder, long bound) {
            StringBuilder where = new StringBuilder();
            StackTraceElement[] stack = holder.getStackTrace();
            for (int i = 0; i < Math.min(stack.length, 12); i++) where.append("\n\tat ").append(stack[i]);
            return Errors.state("thread " + Thread.currentThread().getName() + " waited " + bound + " ms for the test"
                    + " transaction's connection, which thread " + holder.getName() + " has been using all along. Under"
                    + " a test transaction the connections of every thread to a database are one connection, used by one"
                    + " thread at a time: a thread that waits for another thread's database work while it is in the"
                    + " middle of its own waits forever. Thread " + holder.getName() + " is at:" + where);
        }

        // ------------------------------------------------------------ levels

        /** Enters the open levels: a clean transaction at the outermost pinning one, a savepoint at each inside it. */
        private void join() throws SQLException {
            for (Level level : LEVELS) levelBegun(level);
        }

        void levelBegun(Level level) throws SQLException {
            if (!level.pins) return;
            if (since < 0) {
                if (physical.getAutoCommit()) physical.setAutoCommit(false);
                physical.rollback(); // whatever ran between test transactions is not the next test's
                since = level.index;
            } else {
                levelMarks.put(level, set(null, "txguard_test_" + level.index, level));
            }
        }

        void levelEnding(Level level, List<String> leftOpen) throws SQLException {
            if (since < 0 || !level.pins) return;
            for (PinnedConnection handle : handles) {
                String beganAt = handle.openScopeBeganAt();
                if (beganAt != null) leftOpen.add(beganAt);
            }
            user = null; // the test is over; whatever a thread was doing, it is rolled back now
            SQLException failure = null;
            try {
                if (dialect == Dialect.POSTGRESQL) checkDeferredConstraints(level);
            } catch (SQLException e) {
                failure = e;
            }
            try {
                if (level.index == since) {
                    physical.rollback();
                    since = -1;
                    for (Mark m : marks) m.removed = true;
                    marks.clear();
                    levelMarks.clear();
                } else {
                    Mark mark = levelMarks.remove(level);
                    physical.rollback(mark.savepoint);
                    physical.releaseSavepoint(mark.savepoint);
                    int at = marks.indexOf(mark);
                    for (Mark m : marks.subList(at, marks.size())) m.removed = true;
                    marks.subList(at, marks.size()).clear();
                }
            } finally {
                for (PinnedConnection handle : handles) handle.levelEnded();
            }
            if (failure != null) throw failure;
        }

        /**
         * PostgreSQL checks deferred constraints at commit, which a test transaction never reaches: they are checked
         * now, so that a test whose commit would fail in production fails. Undone by the rollback that follows.
         */
        private void checkDeferredConstraints(Level level) throws SQLException {
            try (Statement s = physical.createStatement()) {
                s.execute("SET CONSTRAINTS ALL IMMEDIATE");
            } catch (SQLException e) {
                throw new SQLException("txguard: a deferred constraint does not hold at the end of " + level.name
                        + " (" + Engine.failure(e) + "): in production the commit would fail. The database's message"
                        + " is this exception's cause", e.getSQLState(), e.getErrorCode(), e);
            }
        }

        /** The physical connection is in a test transaction that pins: a handle may use it. */
        boolean inUse() {
            synchronized (TestTransactions.class) {
                return since >= 0 && pinningLevel() != null;
            }
        }

        void checkUsable() throws SQLException {
            synchronized (TestTransactions.class) {
                Level pinning = since >= 0 ? pinningLevel() : null;
                if (pinning != null && (!pinning.refusesOtherThreads || pinning.thread == Thread.currentThread())) return;
                if (pinning != null) {
                    throw Errors.state("thread " + Thread.currentThread().getName() + " uses a connection of the test"
                            + " transaction of " + pinning.name + ", which refuses other threads than its own ("
                            + pinning.thread.getName() + "). Let the test's thread do the database work, or let other"
                            + " threads join the test transaction.");
                }
                if (LEVELS.isEmpty()) {
                    throw Errors.state("this connection was opened under a test transaction, which has ended, and no"
                            + " test transaction is open now: it has no physical connection of its own. Open"
                            + " connections (and pools) inside the test that uses them, or close them at its end.");
                }
                throw Errors.state("this connection belongs to the test transaction of " + LEVELS.get(since < 0 ? 0 : since).name
                        + ", and " + LEVELS.get(LEVELS.size() - 1).name + " commits for real: its work would be rolled"
                        + " back after all. Open a connection of its own inside it.");
            }
        }

        void closed(PinnedConnection handle) {
            synchronized (TestTransactions.class) {
                handles.remove(handle);
            }
        }
    }

    /** The name of the innermost level, for the messages of what a test transaction cannot hold. */
    static String innermostName() {
        synchronized (TestTransactions.class) {
            return LEVELS.isEmpty() ? "no test" : LEVELS.get(LEVELS.size() - 1).name;
        }
    }
}
