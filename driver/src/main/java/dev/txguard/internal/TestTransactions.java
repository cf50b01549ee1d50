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
 * <p>Levels begin and end on the test's thread; connections are opened on any. Everything here runs under this class's
 * lock: when a level or a connection begins or ends, and, for a test transaction's handles only, as each of their
 * calls begins and ends (threads take turns on a physical connection). A connection outside a test pays one volatile
 * read of {@link #open} as it creates a statement or begins a transaction, and nothing on a statement's path.
 */
public final class TestTransactions {

    private TestTransactions() {}

    /** A test transaction is open: connections opened now may be pinned. Read without the lock as the cheap first test. */
    static volatile boolean open;

    /** The test transactions open now: more than one when tests run at the same time. */
    private static final List<Context> CONTEXTS = new ArrayList<>();
    /** Databases between test transactions, kept for the next, by key: their physical connections stay open. */
    private static final Map<String, List<Database>> IDLE = new HashMap<>();
    /** A jdbc:txguard: URL's real URL and user to its database's key, so that a second connect opens nothing. */
    private static final Map<String, String> KEY_OF_URL = new HashMap<>();
    /** A DataSource txguard wraps to its database's key, so that a second getConnection borrows nothing. */
    private static final Map<Object, Map<String, String>> KEY_OF_SOURCE = new IdentityHashMap<>();
    /**
     * The autocommit a URL's driver, or a data source, hands its connections out with (a pool in manual mode hands
     * them out with it off): a handle starts with it, as the connection it stands for would.
     */
    private static final Map<Object, Boolean> HANDS_OUT_AUTO_COMMIT = new HashMap<>();
    /**
     * The test transaction a thread works for: set on the thread that begins a level of it, and inherited by the
     * threads it starts. A thread that has none (a pool's, shared by the tests) works for the only one open.
     */
    private static final InheritableThreadLocal<Context> CONTEXT_OF_THREAD = new InheritableThreadLocal<>();
    private static int nextHandle = 1;
    static final long DEFAULT_WAIT_MILLIS = 10_000;

    /** One test transaction: its levels (a class's, a test's inside it) and the databases it pinned. */
    static final class Context {
        final List<Level> levels = new ArrayList<>();
        final Map<String, Database> databases = new HashMap<>();
        boolean ended;

        Level innermost() {
            return levels.get(levels.size() - 1);
        }

        /** The innermost level when it pins; null in a level that commits for real. */
        Level pinning() {
            Level innermost = innermost();
            return innermost.pins ? innermost : null;
        }

        String name() {
            return levels.get(0).name;
        }
    }

    /** One level of a test transaction: a test class's, a test's. */
    public static final class Level {
        final String name;
        final boolean pins;
        final int index;
        final Context context;
        boolean ended;
        /** On-commit callbacks held instead of run, while the test captures them; null when it does not. */
        List<Runnable> captured;
        /** The thread that began it: the test's. */
        final Thread thread = Thread.currentThread();
        /** Connections of other threads are refused instead of joining (see Database.checkUsable). */
        volatile boolean refusesOtherThreads;
        /** How long a thread waits for the connection while another is using it (see Database.use). */
        volatile long waitMillis = DEFAULT_WAIT_MILLIS;

        private Level(String name, boolean pins, Context context, Level parent) {
            this.name = name;
            this.pins = pins;
            this.context = context;
            this.index = context.levels.size();
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
     * Opens a level inside {@code parent} (null: a test transaction of its own, beside any others open). {@code pins}
     * false: connections opened inside it are not pinned, and commit for real. The calling thread works for it from now.
     */
    public static Level beginLevel(Level parent, String name, boolean pins) throws SQLException {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("txguard: a test transaction needs a name");
        synchronized (TestTransactions.class) {
            Context context;
            if (parent == null) {
                context = new Context();
                CONTEXTS.add(context);
            } else {
                context = parent.context;
                if (parent.ended) throw Errors.state("the test transaction of " + parent.name + " has ended");
                if (context.innermost() != parent) {
                    throw Errors.state("the test transaction of " + name + " cannot begin inside that of " + parent.name
                            + " while " + context.innermost().name + " is open inside it: the tests under one class"
                            + " transaction are savepoints on one connection, one test at a time. Run them one at a"
                            + " time (@Execution(SAME_THREAD) on the class), or put @TxGuardTest on the test methods"
                            + " instead, so that each test has a transaction, and a connection, of its own.");
                }
            }
            Level level = new Level(name, pins, context, parent);
            context.levels.add(level);
            CONTEXT_OF_THREAD.set(context);
            open = true;
            for (Database d : context.databases.values()) d.levelBegun(level);
            return level;
        }
    }

    /** Ends the innermost level of its test transaction: rolls back what was done in it, on every database it pinned. */
    public static Ending endLevel(Level level) {
        synchronized (TestTransactions.class) {
            if (level.ended) throw new IllegalStateException("txguard: the test transaction of " + level.name + " has ended");
            Context context = level.context;
            if (context.innermost() != level) {
                throw new IllegalStateException("txguard: the test transaction of " + level.name + " cannot end while"
                        + " that of " + context.innermost().name + ", inside it, is open");
            }
            List<String> leftOpen = new ArrayList<>();
            SQLException failure = null;
            for (Database d : context.databases.values()) {
                try {
                    d.levelEnding(level, leftOpen);
                } catch (SQLException e) {
                    if (failure == null) failure = e; else failure.addSuppressed(e);
                }
            }
            level.ended = true;
            context.levels.remove(context.levels.size() - 1);
            if (context.levels.isEmpty()) {
                context.ended = true;
                CONTEXTS.remove(context);
                for (Database d : context.databases.values()) {
                    d.owner = null;
                    if (d.borrowed) {
                        d.giveBack();
                    } else if (!d.broken) {
                        IDLE.computeIfAbsent(d.key, k -> new ArrayList<>()).add(d);
                    }
                }
                context.databases.clear();
                if (CONTEXT_OF_THREAD.get() == context) CONTEXT_OF_THREAD.remove();
            } else {
                CONTEXT_OF_THREAD.set(context);
            }
            open = !CONTEXTS.isEmpty();
            return new Ending(leftOpen, failure);
        }
    }

    /**
     * The test transaction the calling thread works for: its own, or the only one open; null when none is. With
     * several open and none the thread's (a pool's thread, shared by tests that run at the same time), no test can be
     * told, and guessing could put one test's work in another's transaction: an error says so.
     */
    private static Context current() throws SQLException {
        Context own = CONTEXT_OF_THREAD.get();
        if (own != null && !own.ended) return own;
        if (CONTEXTS.size() <= 1) return CONTEXTS.isEmpty() ? null : CONTEXTS.get(0);
        List<String> names = new ArrayList<>();
        for (Context c : CONTEXTS) names.add(c.name());
        throw Errors.state("thread " + Thread.currentThread().getName() + " uses a database while " + CONTEXTS.size()
                + " test transactions are open (" + String.join(", ", names) + "), and it works for none of them: it was"
                + " not started by a test (a pool's or an executor's thread that the tests share), so txguard cannot tell"
                + " which test's transaction its work belongs to. Let each test start the threads it uses (an executor"
                + " it creates), or run these tests one at a time.");
    }

    /** The innermost level of the calling thread's test transaction when it pins; null otherwise. */
    private static Level pinningLevel() throws SQLException {
        Context context = current();
        return context == null ? null : context.pinning();
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

    /** See Engine.checkPartOfAnOpenTest: throws when the calling thread's test transaction pins now. */
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
     * A jdbc:txguard: connect while a test transaction is open: a handle on its database's pinned connection, or null
     * when the calling thread's test transaction does not pin now (the connect goes on as usual). The first connect of
     * a database opens its physical connection, outside the lock: a pool's own threads may be connecting meanwhile.
     */
    static Connection connect(String realUrl, Properties info, Config config, Opener opener) throws SQLException {
        String urlKey = realUrl + '\u0000' + (info == null ? "" : info.getProperty("user", ""));
        synchronized (TestTransactions.class) {
            Level level = pinningLevel();
            if (level == null) return null;
            Database known = databaseOf(level.context, KEY_OF_URL.get(urlKey));
            if (known != null) return known.newHandle(config, HANDS_OUT_AUTO_COMMIT.getOrDefault(urlKey, true), Engine.FROM_A_DRIVER);
        }
        Connection physical = opener.open();
        boolean autoCommit = physical.getAutoCommit();
        synchronized (TestTransactions.class) {
            Level level = pinningLevel();
            if (level == null) {
                physical.close(); // the test ended meanwhile
                return null;
            }
            Database database = pin(level.context, physical, false);
            KEY_OF_URL.put(urlKey, database.key);
            HANDS_OUT_AUTO_COMMIT.put(urlKey, autoCommit);
            return database.newHandle(config, autoCommit, Engine.FROM_A_DRIVER);
        }
    }

    /**
     * A wrapped DataSource's getConnection while a test transaction is open: as {@link #connect}, keyed by the data
     * source and user, so that a pool of one connection is not asked for a second. A connection the data source hands
     * out guarded already (a pool over a jdbc:txguard: URL) is returned as it is.
     */
    static Connection connectThrough(Object source, String user, Config config, Opener borrow) throws SQLException {
        String sourceKey = user == null ? "" : user;
        synchronized (TestTransactions.class) {
            Level level = pinningLevel();
            if (level == null) return null;
            Map<String, String> keys = KEY_OF_SOURCE.get(source);
            Database known = keys == null ? null : databaseOf(level.context, keys.get(sourceKey));
            if (known != null) {
                return known.newHandle(config, HANDS_OUT_AUTO_COMMIT.getOrDefault(source, true), Engine.FROM_A_DATA_SOURCE);
            }
        }
        Connection borrowed = borrow.open();
        if (borrowed.isWrapperFor(TxConnection.class)) return borrowed;
        boolean autoCommit = borrowed.getAutoCommit();
        synchronized (TestTransactions.class) {
            Level level = pinningLevel();
            if (level == null) return Guard.wrap(borrowed); // the test ended meanwhile
            Database database = pin(level.context, borrowed, true);
            KEY_OF_SOURCE.computeIfAbsent(source, s -> new HashMap<>()).put(sourceKey, database.key);
            HANDS_OUT_AUTO_COMMIT.put(source, autoCommit);
            return database.newHandle(config, autoCommit, Engine.FROM_A_DATA_SOURCE);
        }
    }

    /**
     * Under the agent, a connection a driver or data source returned while a test transaction is open: a handle on
     * its database's pinned connection (see Guard.guardReturned), or null when the thread's test does not pin now.
     */
    static Connection pinReturned(Connection real, Config config, int origin) throws SQLException {
        synchronized (TestTransactions.class) {
            Level level = pinningLevel();
            if (level == null) return null;
            boolean autoCommit = real.getAutoCommit();
            return pin(level.context, real, false).newHandle(config, autoCommit, origin);
        }
    }

    /**
     * A URL as the database it names: without the options after {@code ?} or {@code ;}, which a vendor's data source
     * adds of its own (PostgreSQL's) and which do not change the database (H2's {@code ;DB_CLOSE_DELAY}).
     */
    private static String withoutOptions(String url) {
        if (url == null) return "";
        int end = url.length();
        int query = url.indexOf('?');
        int semicolon = url.indexOf(';');
        if (query >= 0) end = query;
        if (semicolon >= 0 && semicolon < end) end = semicolon;
        return url.substring(0, end);
    }

    /** The test transaction's database of this key: one it pinned, or one kept from an earlier test; null when none. */
    private static Database databaseOf(Context context, String key) throws SQLException {
        if (key == null) return null;
        Database database = context.databases.get(key);
        if (database != null) return database;
        List<Database> idle = IDLE.get(key);
        if (idle == null || idle.isEmpty()) return null;
        database = idle.remove(idle.size() - 1);
        database.join(context);
        return database;
    }

    /**
     * The database of a physical connection just opened: a new one, which this connection is kept for, or one the
     * test transaction has (or an idle one), in which case this connection is closed again.
     */
    private static Database pin(Context context, Connection physical, boolean borrowed) throws SQLException {
        String key;
        Dialect dialect;
        try {
            java.sql.DatabaseMetaData meta = physical.getMetaData();
            key = withoutOptions(meta.getURL()) + '\u0000' + meta.getUserName();
            dialect = Dialect.forProduct(meta.getDatabaseProductName());
            String missing = !meta.supportsTransactions() ? "transactions" : !meta.supportsSavepoints() ? "savepoints" : null;
            if (missing != null) {
                Level level = context.innermost();
                throw Errors.state("the test transaction of " + level.name + " cannot hold the work of a connection to "
                        + meta.getDatabaseProductName() + ", whose driver says it has no " + missing + ": a test"
                        + " transaction needs both, to be rolled back with each application transaction inside it as a"
                        + " savepoint. Test this database's code in a test that commits for real and cleans up after"
                        + " itself.");
            }
        } catch (SQLException | RuntimeException e) {
            physical.close();
            throw e;
        }
        Database known = databaseOf(context, key);
        if (known != null) {
            physical.close();
            return known;
        }
        Database database = new Database(key, physical, dialect, borrowed);
        database.join(context);
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
        /**
         * Another handle committed work since this savepoint was set (its own savepoint, set above this one, was
         * released): what that handle's transaction began at, for the warning a rollback to this one then gives.
         */
        String committedSinceBy;

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
        /** Aborted under a call that never ended (see awaitOtherThreadsCall): never used again. */
        boolean broken;
        /** The test transaction it is in; null between test transactions, when it waits for the next one (IDLE). */
        Context owner;
        private int nextMark = 1;

        /**
         * Its physical connection was borrowed from a pool txguard is over (TxGuardDataSource): it goes back at the end
         * of its test transaction, as the pool may close it any time after (at its own close, which aborts what is
         * borrowed), and the next test borrows again.
         */
        final boolean borrowed;

        /** The autocommit its physical connection had when it came: a borrowed one goes back with it. */
        private final boolean cameWithAutoCommit;

        Database(String key, Connection physical, Dialect dialect, boolean borrowed) throws SQLException {
            this.key = key;
            this.physical = physical;
            this.dialect = dialect;
            this.borrowed = borrowed;
            this.cameWithAutoCommit = physical.getAutoCommit();
        }

        /** A borrowed physical connection goes back to its pool, rolled back, in the autocommit it came with. */
        void giveBack() {
            try {
                physical.setAutoCommit(cameWithAutoCommit);
                physical.close();
            } catch (SQLException e) {
                // the pool has closed it already, or will find it broken: nothing of the test's is in it
            }
        }

        /** A handle that starts in the autocommit the connection it stands for would have, from where that comes. */
        Connection newHandle(Config config, boolean autoCommit, int origin) throws SQLException {
            PinnedConnection handle = new PinnedConnection(this, nextHandle++, autoCommit);
            Engine engine = new Engine(handle, config, dialect, origin);
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
                    if (top.owner instanceof PinnedConnection) {
                        for (Mark below : marks) {
                            if (below.owner != top.owner && below.owner instanceof PinnedConnection && !below.released
                                    && below.committedSinceBy == null) {
                                below.committedSinceBy = describe(top.owner);
                            }
                        }
                    }
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
            if (mark.committedSinceBy != null) {
                warnUndone(mark, mark.committedSinceBy, "committed meanwhile (a REQUIRES_NEW transaction, say)",
                        "that commit would stand");
            }
            mark.committedSinceBy = null;
            physical.rollback(mark.savepoint);
            int at = marks.indexOf(mark);
            List<Mark> above = new ArrayList<>(marks.subList(at + 1, marks.size()));
            marks.subList(at + 1, marks.size()).clear();
            for (Mark m : above) {
                if (m.released) {
                    m.removed = true;
                    continue;
                }
                if (m.owner != mark.owner && !(m.owner instanceof Level)) {
                    warnUndone(mark, describe(m.owner), "did since its own transaction began",
                            "each has its own and this rollback would undo only its own work");
                }
                m.savepoint = physical.setSavepoint(m.physicalName);
                marks.add(m);
            }
        }

        /**
         * A rollback on one handle undid another's work too, which on connections of their own it would not: what the
         * other did since its transaction began, or what it committed meanwhile. Said once per pair of begin sites.
         */
        private void warnUndone(Mark rolledBack, String other, String whatItDid, String production) {
            String by = describe(rolledBack.owner);
            String test = owner == null ? "no test" : owner.innermost().name;
            SaidOnce.warn(dialect + ": test transaction rollback by " + by + " undid " + whatItDid + " of " + other,
                    () -> "txguard: in the test transaction of " + test + ", a rollback on " + by + " also undid what "
                    + other + " " + whatItDid + ": under a test transaction both are one connection, where in"
                    + " production " + production);
        }

        private static String describe(Object owner) {
            if (owner instanceof PinnedConnection) {
                String beganAt = ((PinnedConnection) owner).openScopeBeganAt(0);
                return beganAt == null ? "a connection" : "the connection whose transaction began at " + beganAt;
            }
            return "the test level " + ((Level) owner).name;
        }

        // ------------------------------------------------------------ one thread at a time

        /**
         * The calling thread starts using the physical connection (a statement, a transaction call): it waits while
         * another thread is in the middle of one, up to the test's bound, and then fails naming that thread and where
         * it is. Drivers are not made for two threads' calls at once on one connection. False when the thread is in
         * the middle of a call already, which gives the connection back at its end.
         */
        boolean use() throws SQLException {
            Thread me = Thread.currentThread();
            synchronized (TestTransactions.class) {
                if (user == me) return false;
                if (user == null) {
                    user = me;
                    return true;
                }
                long bound = owner == null ? DEFAULT_WAIT_MILLIS : owner.innermost().waitMillis;
                if (!awaitOthersCall(bound)) throw waitedTooLong(user, bound);
                user = me;
                return true;
            }
        }

        /**
         * Waits, under this class's lock, while another thread is in the middle of a call on the connection: true once
         * none is, false when the bound passed first.
         */
        private boolean awaitOthersCall(long boundMillis) throws SQLException {
            Thread me = Thread.currentThread();
            long deadline = System.nanoTime() + boundMillis * 1_000_000L;
            while (user != null && user != me) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                try {
                    TestTransactions.class.wait(Math.max(1, left / 1_000_000L));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw Errors.state("interrupted while waiting for the test transaction's connection", e);
                }
            }
            return true;
        }

        /**
         * A level ends while another thread is in the middle of a call on the connection (a thread the test started
         * and did not wait for): the rollback waits for the call, up to the test's bound. Past it, the connection is
         * aborted, as rolling back under a call in flight would break it, and the test fails naming that thread.
         */
        private void awaitOtherThreadsCall(Level level) throws SQLException {
            if (awaitOthersCall(level.waitMillis)) {
                user = null;
                return;
            }
            Thread holder = user;
            user = null;
            broken = true;
            String refused = "";
            try {
                // abort, not close: JDBC's way to end a connection another thread is in the middle of using
                physical.abort(Runnable::run);
            } catch (SQLException | RuntimeException e) {
                // pgjdbc 42.7 refuses on JDK 24 and later (SecurityException): closed once the call lets it be
                refused = " (the driver refused to abort it, with " + e.getClass().getName() + ": it is closed"
                        + " as soon as the call ends, and until then the database keeps its session and locks)";
                Thread closer = new Thread(() -> {
                    try {
                        physical.close();
                    } catch (SQLException | RuntimeException ignored) {
                        // it is ended either way
                    }
                }, "txguard: closing an aborted test connection");
                closer.setDaemon(true);
                closer.start();
            }
            throw Errors.state("the test transaction of " + level.name + " ended while thread " + holder.getName()
                    + " was still in the middle of a call on its connection, which it has not finished in "
                    + level.waitMillis + " ms: the connection is aborted" + refused + ", and the next test gets another."
                    + " Let the test wait for the threads it starts to finish their database work.");
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

        /**
         * Joins a test transaction, and enters its open levels: a clean transaction at the outermost pinning one, a
         * savepoint at each inside it.
         */
        void join(Context context) throws SQLException {
            owner = context;
            context.databases.put(key, this);
            for (Level level : context.levels) levelBegun(level);
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
                String beganAt = handle.openScopeBeganAt(level.index);
                if (beganAt != null) leftOpen.add(beganAt);
            }
            awaitOtherThreadsCall(level);
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
                for (PinnedConnection handle : handles) handle.levelEnded(level.index);
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
                return owner != null && since >= 0 && owner.pinning() != null;
            }
        }

        /**
         * A handle is about to use the physical connection: it must be in the calling thread's test transaction, which
         * must pin now. A database kept from an earlier test joins the thread's test transaction here (a pool that
         * the tests share keeps its connections from test to test).
         */
        void checkUsable() throws SQLException {
            synchronized (TestTransactions.class) {
                Context context = current();
                if (owner == null && context != null && context.pinning() != null && !context.databases.containsKey(key)
                        && IDLE.get(key).remove(this)) {
                    join(context);
                }
                if (owner == null) {
                    throw Errors.state("this connection was opened under a test transaction, which has ended, and no"
                            + " test transaction is open now: it has no physical connection of its own. Open"
                            + " connections (and pools) inside the test that uses them, or close them at its end.");
                }
                if (owner != context) {
                    throw Errors.state("this connection is in the test transaction of " + owner.name() + ", but thread "
                            + Thread.currentThread().getName() + " works for " + (context == null ? "no test"
                            : "that of " + context.name()) + ": tests that run at the same time each have a connection"
                            + " of their own, and one a pool keeps for them all cannot serve two. Give each test its"
                            + " own pool, or run these tests one at a time.");
                }
                Level pinning = owner.pinning();
                if (pinning == null) {
                    throw Errors.state("this connection belongs to the test transaction of " + owner.name() + ", and "
                            + owner.innermost().name + " commits for real: its work would be rolled back after all."
                            + " Open a connection of its own inside it.");
                }
                if (pinning.refusesOtherThreads && pinning.thread != Thread.currentThread()) {
                    throw Errors.state("thread " + Thread.currentThread().getName() + " uses a connection of the test"
                            + " transaction of " + pinning.name + ", which refuses other threads than its own ("
                            + pinning.thread.getName() + "). Let the test's thread do the database work, or let other"
                            + " threads join the test transaction.");
                }
            }
        }

        /** The index of the innermost level of its test transaction (what a scope opening now opens in). */
        int levelIndex() {
            synchronized (TestTransactions.class) {
                return owner == null ? 0 : owner.innermost().index;
            }
        }

        /** The name of the innermost level of its test transaction, for txguard's messages. */
        String testName() {
            synchronized (TestTransactions.class) {
                return owner == null ? "no test" : owner.innermost().name;
            }
        }

        /** An on-commit callback of one of its handles is due: true when the test captures it, which then holds it. */
        boolean captured(Runnable callback) {
            synchronized (TestTransactions.class) {
                if (owner == null) return false;
                for (int i = owner.levels.size() - 1; i >= 0; i--) {
                    List<Runnable> captured = owner.levels.get(i).captured;
                    if (captured != null) {
                        captured.add(callback);
                        return true;
                    }
                }
                return false;
            }
        }

        void closed(PinnedConnection handle) {
            synchronized (TestTransactions.class) {
                handles.remove(handle);
            }
        }
    }
}
