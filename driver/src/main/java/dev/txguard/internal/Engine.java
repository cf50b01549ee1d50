package dev.txguard.internal;

import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The transaction semantics of one physical connection; the JDBC wrappers only translate calls
 * into the events below. The model is written down for users in docs/semantics.md:
 *
 * <ul>
 * <li>A <em>begin</em> ({@code setAutoCommit(false)} or SQL {@code BEGIN}) opens a scope owned by
 *     the calling frame. The outermost scope is the real transaction; a scope opened while another
 *     is open is nested and gets a savepoint when it first runs a statement.
 * <li>An end event (commit, rollback, autocommit restore) belongs to the innermost scope whose
 *     owner is still on the caller's stack. A scope whose owner returned without ending it passes to
 *     the nearest surviving frame of its begin stack, and merges into a scope that frame owns.
 * <li>Commit of a nested scope releases its savepoint; rollback rolls back to it; restore ends it.
 *     Only the outermost scope commits, rolls back and restores for real.
 * <li>A rollback from deeper than the scope's owner (a stray one) also marks the scope
 *     rollback-only until its owner ends it.
 * </ul>
 *
 * <p>Not thread-safe, like the connection it guards.
 */
final class Engine {

    private static final System.Logger LOG = System.getLogger("dev.txguard");
    /**
     * With the agent and durable methods configured: the engines that have a transaction open on each
     * thread, so that a durable method's return can be checked. Off otherwise (see Guard).
     */
    static volatile boolean trackOpenTransactions;
    private static final ThreadLocal<List<Engine>> OPEN_ON_THREAD = ThreadLocal.withInitial(() -> new ArrayList<>(2));

    static final int API = 0;
    static final int SQL = 1;
    /** Uncommitted work on a connection in manual mode that nobody began: a transaction owned by anyone. */
    static final int IMPLICIT = 2;

    private static final int ANYONE = -1;
    private static final String IMPLICIT_DESCRIPTION =
            "uncommitted work: autocommit is off and statements ran since the last commit or rollback";

    /** One begin's region: from the begin to the end event that closes it. */
    private static final class Scope {
        final int kind;
        /** Where it began; null for IMPLICIT. */
        final CallStack beginStack;
        /** The owning activation: its index in the begin stack (0, the frame that began it, until it returns), or ANYONE. */
        int ownerIndex;
        /** Where the owner is on the stack of the event being handled ({@code positionIn}); -1 when unknown. */
        private CallStack positionIn;
        private int position;
        /** For an outermost SQL scope: JDBC autocommit was on before the begin and comes back at its end. */
        boolean restoreAutoCommit;
        /** Its place in the stack of scopes, which names its savepoint. */
        int index;
        /** Its savepoint's name once it has run a statement; null before, and for the outermost scope. */
        String savepoint;
        /** The savepoint itself where the dialect sets savepoints through JDBC (Derby); null elsewhere. */
        Savepoint jdbcSavepoint;
        long savepointId;
        String rollbackOnlyReason;
        boolean lastStatementFailed;
        /**
         * Orders scopes by when they opened, or last committed (see OnCommit): every callback registered in this scope
         * or a scope inside it since then carries a serial at or above this one.
         */
        long serial;
        /** Under a test transaction, the level it opened in (see TestTransactions): that level's end forgets it. */
        int testLevel;

        Scope(int kind, CallStack beginStack) {
            this.kind = kind;
            this.beginStack = beginStack;
            this.ownerIndex = beginStack != null && beginStack.hasCaller() && !beginStack.callerActsForTheRun() ? 0 : ANYONE;
        }

        String beganAt() {
            return beginStack == null ? IMPLICIT_DESCRIPTION : beginStack.describe(0);
        }

        /** Position of the owner on {@code here}, or -1 for ANYONE and an owner that has returned. */
        int ownerPosition(CallStack here) {
            if (ownerIndex == ANYONE) return -1;
            if (positionIn != here) {
                positionIn = here;
                position = here.find(beginStack, ownerIndex);
            }
            return position;
        }

        void ownerFoundAt(CallStack here, int index, int at) {
            ownerIndex = index;
            positionIn = here;
            position = at;
        }
    }

    private static final class AppSavepoint {
        final Savepoint savepoint;
        /** Our savepoints with an id at or above this were set after it. */
        final long nextIdAtCreation;

        AppSavepoint(Savepoint savepoint, long nextIdAtCreation) {
            this.savepoint = savepoint;
            this.nextIdAtCreation = nextIdAtCreation;
        }
    }

    /**
     * A callback waiting for the real commit (TxGuard.onCommit), with the serial of the innermost scope open when it
     * was registered. Undoing a scope drops the callbacks whose serial is at or above the scope's: exactly those
     * registered in it or in scopes inside it, as scopes nest and serials only grow.
     */
    private static final class OnCommit {
        final long serial;
        final Runnable callback;

        OnCommit(long serial, Runnable callback) {
            this.serial = serial;
            this.callback = callback;
        }
    }

    private final Connection real;
    private final Config config;
    final Dialect dialect;
    /** The autocommit this connection comes back to when it is returned: as opened, or as its pool set it up. */
    private boolean defaultAutoCommit;
    /** Where a guarded connection comes from: see {@link #giversTransaction}. */
    static final int FROM_A_DRIVER = 0, FROM_A_DATA_SOURCE = 1, FROM_A_POOLED_CONNECTION = 2;
    /**
     * The transaction open on the connection is its giver's, not txguard's: a pool or data source that txguard is
     * over handed the connection out with autocommit already off (a JTA transaction manager's pool enlisted it in a
     * global transaction, a pool in manual mode handed it out), or has since enlisted it (see
     * {@link #enlistedSinceHandedOut}). Work that no begin txguard saw opened (IMPLICIT) is then the giver's to end,
     * and txguard leaves it at close and return, undoing only its own nested scopes: a transaction manager is about
     * to commit or roll that work back itself, and refuses a rollback() from anyone else (Agroal, Atomikos, and JDBC
     * for a connection in a global transaction). A scope begun through txguard stays txguard's to end, as on any
     * connection. A connection txguard opened from a driver has no giver but the application, which asked for
     * manual mode (a URL setting): its work is rolled back at close like any, since the driver might commit it
     * (Oracle's does).
     */
    private boolean giversTransaction;
    /** The connection is a data source's or pool's handle, which its pool may enlist after handing it out. */
    private final boolean mayBeEnlistedLater;
    private final boolean observe;
    /** The handle a test transaction gave for the real connection (see TestTransactions); null everywhere else. */
    private final PinnedConnection pinned;

    private boolean realAutoCommit;
    private Scope[] scopes = new Scope[8];
    private int depth;
    private long nextSavepointId = 1;
    /** Autocommit is off and statements ran since the last commit or rollback: there is work to lose. */
    private boolean pending;
    private List<AppSavepoint> appSavepoints;
    /**
     * The last nested scope that ended, to recognise its owner's further end events (a restore in try
     * and again in finally): in plain JDBC that method's restore had already turned autocommit on, so
     * they were no-ops, and they must not end the caller's scope.
     */
    private CallStack endedBeginStack;
    private int endedOwnerIndex;
    /** Sends txguard's own SAVEPOINT statements, so that spies such as P6Spy see what the database receives. */
    private Statement savepointStatement;
    /** See savepointSqlAt; empty until a nested scope sets a savepoint. */
    private String[][] savepointSql = NO_SAVEPOINT_SQL;
    private static final String[][] NO_SAVEPOINT_SQL = new String[0][];
    /** A call of the real connection's transaction methods is running (see realCommit and the others). */
    private int callingReal;
    /**
     * The application holds the driver's own objects (unwrapped): statements may run without this engine
     * seeing them, so every nested scope sets its savepoint as it begins, not lazily at its first statement.
     */
    private boolean handedOut;
    /** The thread the transaction was begun on, or last moved to (see nestedOnAnotherThread). */
    private Thread beganOn;
    private long nextScopeSerial = 1;
    /** Callbacks waiting for the real commit, in registration order; null until the first. */
    private List<OnCommit> onCommit;
    /** Callbacks of a transaction that committed, run as the event that committed it ends. */
    private java.util.ArrayDeque<Runnable> due;
    /** The callbacks of a commit are running: what registers meanwhile with no new work open runs in the same round. */
    private boolean runningCallbacks;
    private int roundDepth;

    /** {@code origin}: {@link #FROM_A_DRIVER}, {@link #FROM_A_DATA_SOURCE} or {@link #FROM_A_POOLED_CONNECTION}. */
    Engine(Connection real, Config config, Dialect dialect, int origin) throws SQLException {
        this.real = real;
        this.config = config;
        this.dialect = dialect;
        this.observe = config.observe();
        this.pinned = real instanceof PinnedConnection ? (PinnedConnection) real : null;
        this.defaultAutoCommit = real.getAutoCommit(); // nothing can have unwrapped it yet
        this.realAutoCommit = defaultAutoCommit;
        this.giversTransaction = !defaultAutoCommit && origin != FROM_A_DRIVER;
        // Not a PooledConnection's handle: a transaction manager's pool may keep one across its transactions
        this.mayBeEnlistedLater = origin == FROM_A_DATA_SOURCE;
    }

    // ---------------------------------------------------------------- autocommit, begin, end events

    boolean getAutoCommit() throws SQLException {
        if (depth > 0 && !observe) return false;
        return realGetAutoCommit();
    }

    void setAutoCommit(boolean autoCommit) throws SQLException {
        if (autoCommit) restore(); else begin(API, null, Sql.BEGIN);
    }

    /**
     * A connection that is not a test transaction's handle, used while one is open: what it commits would stay in the
     * database after the test, so it is refused. Asked as statements are created and transactions begin, for the
     * price of one volatile read; a test that commits for real opens connections of its own, which pass.
     */
    void checkPartOfAnOpenTest() throws SQLException {
        if (TestTransactions.open && pinned == null) TestTransactions.refuseUnpinned();
    }

    /** A begin: setAutoCommit(false) (kind API) or a SQL begin (kind SQL, with its text). */
    void begin(int kind, String sql, int sqlKind) throws SQLException {
        if (depth == 0) checkPartOfAnOpenTest();
        CallStack here = CallStack.captureBegin(config); // from here, not from a helper: see CallStack's capture methods
        if (kind == API && here.inPoolsHands) {
            // A pool configuring the connection with autoCommit=false, or resetting it on return: manual
            // mode, not a transaction anyone began (see pending).
            if (depth > 0) returnToPool();
            realSetAutoCommit(false);
            realAutoCommit = false;
            defaultAutoCommit = false;
            return;
        }
        reconcile(here);
        endedBeginStack = null;
        if (depth > 0 && scopes[depth - 1].ownerPosition(here) == 0) {
            // The owner begins again (a loop, or a DAO restoring a saved 'false'): nothing new opens.
            if (observe) plainBegin(kind, sql);
            return;
        }
        boolean enclosed = depth > 0 || (!realAutoCommit && pending) || enlistedSinceHandedOut();
        if (!enclosed) {
            // The database first: a begin it refuses (a closed connection, say) must leave no scope behind.
            if (observe) {
                plainBegin(kind, sql);
                push(new Scope(kind, here));
                return;
            }
            boolean restoreAutoCommit = false;
            if (realAutoCommit) {
                realSetAutoCommit(false);
                realAutoCommit = false;
                restoreAutoCommit = kind == SQL;
            }
            Scope outer = push(new Scope(kind, here));
            outer.restoreAutoCommit = restoreAutoCommit;
            if (sqlKind == Sql.BEGIN_WITH_MODES && pinned != null) {
                report(here, "begin with characteristics under a test transaction", "transaction characteristics in "
                        + Sql.leadingWords(sql, dialect) + " are ignored: under the test transaction of "
                        + pinned.database.testName() + " this transaction is a savepoint inside it");
            } else if (sqlKind == Sql.BEGIN_WITH_MODES) {
                boolean driversTransactionEnded = false;
                try (Statement s = real.createStatement()) {
                    if (dialect.driverKeepsATransactionOpen) {
                        s.execute("COMMIT"); // the driver's own, with nothing in it
                        driversTransactionEnded = true;
                    }
                    s.execute(dialect.beginModesSql(sql, Sql.modesOffset(sql, dialect)));
                } catch (SQLException rejected) {
                    // The database refused the begin: as without txguard, no transaction was started.
                    if (driversTransactionEnded) executePlain("BEGIN"); // the state the driver counts on
                    pop();
                    if (outer.restoreAutoCommit) {
                        realSetAutoCommit(true);
                        realAutoCommit = true;
                    }
                    throw rejected;
                }
            }
            return;
        }
        checkDurability(here);
        if (depth > 0 && beganOn != Thread.currentThread()) nestedOnAnotherThread(here);
        if (depth == 0) push(new Scope(IMPLICIT, null));
        push(new Scope(kind, here));
        if (observe) {
            if (kind == SQL) {
                report(here, "nested SQL begin", "enforce would open a savepoint scope inside the transaction begun at "
                        + scopes[0].beganAt() + "; without txguard the database receives the BEGIN itself");
            }
            plainBegin(kind, sql);
        } else {
            if (sqlKind == Sql.BEGIN_WITH_MODES) {
                report(here, "nested begin with characteristics", "transaction characteristics in "
                        + Sql.leadingWords(sql, dialect) + " are ignored: a nested scope is a savepoint inside the"
                        + " transaction begun at " + scopes[0].beganAt());
            }
            if (handedOut) setSavepoints();
        }
    }

    /**
     * Whether the pool that handed the connection out has since put it in a transaction that txguard did not see
     * begin: a transaction manager's pool that enlists a connection at its first statement (Atomikos), not as it
     * hands it out (Agroal). Asked at an outermost begin where the autocommit txguard last knew is on, on a
     * data source's handle only, so a driver's connection pays nothing for it: a transaction found there is the
     * giver's, with work in it, and the begin nests in it.
     */
    private boolean enlistedSinceHandedOut() throws SQLException {
        if (!mayBeEnlistedLater || depth > 0 || !realAutoCommit || observe || realGetAutoCommit()) return false;
        realAutoCommit = false;
        pending = true;
        giversTransaction = true;
        return true;
    }

    void commit(int kind) throws SQLException {
        try {
            handleCommit(kind);
        } finally {
            runCallbacks();
        }
    }

    private void handleCommit(int kind) throws SQLException {
        if (depth == 0) {
            plainCommit(kind);
            return;
        }
        CallStack here = depth > 1 || observe || endedBeginStack != null ? CallStack.capture(config) : null;
        if (here != null) reconcile(here);
        if (here != null && afterItsOwnScopeEnded(here)) return;
        Scope s = scopes[depth - 1];
        if (observe) {
            if (depth > 1) {
                report(here, "nested commit", "enforce would release the savepoint of the scope begun at " + s.beganAt()
                        + "; without txguard this commits the whole transaction begun at " + scopes[0].beganAt());
            }
            plainCommit(kind);
            if (kind != API || depth == 1 && s.kind == IMPLICIT) pop();
            return;
        }
        if (s.rollbackOnlyReason != null) {
            throw Errors.state("commit refused: the scope begun at " + s.beganAt() + " is rollback-only because "
                    + s.rollbackOnlyReason + ". Roll it back, or end it with setAutoCommit(true).");
        }
        if (depth == 1) {
            realCommit();
            transactionEnded();
            if (s.kind != API) endOutermost(s);
            return;
        }
        release(s, false);
        if (s.kind == SQL) {
            pop();
            rememberEnded(s);
        } else {
            s.serial = nextScopeSerial++; // its committed work's callbacks are the enclosing scope's now
        }
    }

    void rollback(int kind) throws SQLException {
        if (depth == 0) {
            plainRollback(kind);
            return;
        }
        CallStack here = CallStack.capture(config);
        if (here.inPoolsHands) {
            returnToPool(); // rolled back; the pool's own rollback only matters if manual mode is its default
            if (!realAutoCommit) realRollback();
            return;
        }
        reconcile(here);
        if (afterItsOwnScopeEnded(here)) return;
        Scope s = scopes[depth - 1];
        boolean stray = s.ownerPosition(here) > 0; // the owner is running, deeper down
        if (observe) {
            if (depth > 1) {
                report(here, "nested rollback", "enforce would roll back only to the savepoint of the scope begun at "
                        + s.beganAt() + "; without txguard this rolls back the whole transaction begun at " + scopes[0].beganAt());
            } else if (stray) {
                report(here, "stray rollback", "enforce would mark the transaction begun at " + s.beganAt()
                        + " rollback-only: this rollback comes from code that did not begin it");
            }
            plainRollback(kind);
            if (kind != API || s.kind == IMPLICIT) pop();
            return;
        }
        if (depth == 1) {
            realRollback();
            transactionEnded();
        } else {
            dropCallbacksOf(s);
            if (s.savepoint != null) rollbackToSavepoint(s);
        }
        if (stray) {
            String rolledBackAt = here.describe(0);
            s.rollbackOnlyReason = "a rollback came from " + rolledBackAt + ", which did not begin it";
            warnOnce("stray rollback at " + rolledBackAt + " of the scope begun at " + s.beganAt(), () -> "txguard: stray"
                    + " rollback at " + rolledBackAt + " rolled back the scope begun at " + s.beganAt()
                    + "; it is rollback-only until its owner ends it");
            return;
        }
        s.rollbackOnlyReason = null;
        if (s.kind == SQL || s.kind == IMPLICIT) {
            if (depth == 1) {
                endOutermost(s);
            } else {
                endNested(s);
                rememberEnded(s);
            }
        }
    }

    /** setAutoCommit(true): ends the innermost scope; commits only when it is the outermost one. */
    void restore() throws SQLException {
        try {
            handleRestore();
        } finally {
            runCallbacks();
        }
    }

    private void handleRestore() throws SQLException {
        if (depth == 0) {
            if (pending && CallStack.capture(config).inPoolsHands) realRollback(); // a pool resetting before it rolls back
            realSetAutoCommit(true);
            realAutoCommit = true;
            transactionEnded();
            return;
        }
        if (depth == 1 && !pending && endedBeginStack == null && !observe) {
            // Nothing to lose and no ended scope to recognise: whoever restores, a pool or the owner, the
            // outcome is the same, so the stack is not walked (this is every DAO's commit-then-restore).
            if (scopes[0].rollbackOnlyReason != null) realRollback();
            pop();
            realSetAutoCommit(true);
            realAutoCommit = true;
            transactionEnded();
            return;
        }
        CallStack here = CallStack.capture(config);
        if (here.inPoolsHands) {
            returnToPool();
            realSetAutoCommit(true);
            realAutoCommit = true;
            return;
        }
        reconcile(here);
        if (afterItsOwnScopeEnded(here)) return;
        Scope s = scopes[depth - 1];
        if (observe) {
            if (depth > 1) {
                report(here, "nested autocommit restore", "enforce would only end the scope begun at " + s.beganAt()
                        + "; without txguard setAutoCommit(true) commits the whole transaction begun at " + scopes[0].beganAt());
            }
            pop();
            realSetAutoCommit(true);
            realAutoCommit = true;
            return;
        }
        if (depth > 1) {
            endNested(s);
            rememberEnded(s);
            return;
        }
        if (s.rollbackOnlyReason != null) realRollback();
        pop();
        realSetAutoCommit(true); // commits, as JDBC specifies
        realAutoCommit = true;
        transactionEnded();
    }

    // ---------------------------------------------------------------- statements

    /** Before any statement runs: confirms the scope it belongs to, refuses it in a rollback-only scope. */
    void beforeStatement() throws SQLException {
        if (pinned != null) pinned.beforeStatement();
        if (!realAutoCommit) pending = true;
        if (depth == 0) return;
        if (depth > 1) reconcile(CallStack.capture(config)); // which scope this statement belongs to depends on who runs it
        Scope s = scopes[depth - 1];
        if (observe) return;
        if (s.rollbackOnlyReason != null) {
            throw Errors.state("statement refused: the scope begun at " + s.beganAt() + " is rollback-only because "
                    + s.rollbackOnlyReason + ". Its owner must roll it back or end it with setAutoCommit(true).");
        }
        if (depth > 1 && s.savepoint == null) setSavepoints();
    }

    /**
     * Sets the savepoints this statement needs: the innermost scope's, and first those of enclosing nested
     * scopes that have not run anything themselves yet, so that rolling one back also undoes what its
     * nested scopes did and merged into it.
     */
    private void setSavepoints() throws SQLException {
        if (pinned != null) pinned.ensureStart(); // the handle's transaction first, as at any statement
        for (int i = 1; i < depth; i++) {
            Scope scope = scopes[i];
            if (scope.savepoint != null) continue;
            scope.savepointId = nextSavepointId++;
            String[] sql = savepointSqlAt(i);
            try {
                sendSavepoint(scope, sql, SET);
            } catch (SQLException e) {
                throw savepointRefused(scope, e);
            }
            scope.savepoint = sql[NAME];
        }
    }

    /**
     * The application never asked for this savepoint, so an error about it alone would not say why it was set.
     * The cause's SQLState and vendor code are kept, for the code that acts on them, and the cause itself is
     * chained, not quoted (see {@link #failure}); a lost connection's error goes back as it is.
     */
    private static SQLException savepointRefused(Scope scope, SQLException e) {
        if (isConnectionLost(e)) return e;
        return new SQLException("txguard: could not set the savepoint of the nested scope begun at " + scope.beganAt()
                + " (a nested scope needs one before it does any work, to be able to roll back alone): the database"
                + " refused it with " + failure(e) + "; its own message is this exception's cause",
                e.getSQLState(), e.getErrorCode(), e);
    }

    /**
     * A database's or driver's error as txguard's words name it: its SQLState and vendor code, never its message,
     * which may carry a statement's bound values or literals (pgjdbc's batch entries, a duplicate key's value).
     * The error itself stays chained as a cause, for the application to log as it decides.
     */
    static String failure(SQLException e) {
        return (e.getSQLState() == null ? "no SQLState" : "SQLState " + e.getSQLState()) + ", vendor code " + e.getErrorCode();
    }

    void statementSucceeded() throws SQLException {
        if (pinned != null) pinned.statementSucceeded();
        if (depth > 0) scopes[depth - 1].lastStatementFailed = false;
    }

    /**
     * A statement failed: notes it, and notices when the database ended the whole transaction or the
     * connection is gone. The database's own error always goes back to the application unchanged: its
     * SQLState is what retry logic and pools act on.
     */
    SQLException statementFailed(SQLException e) {
        if (pinned != null) pinned.statementFailed(e);
        if (depth == 0 || observe) return e;
        String state = e.getSQLState();
        if (isConnectionLost(e)) {
            connectionLost(e);
        } else if (state != null && state.startsWith("40")) {
            // A deadlock or serialization failure: the server rolled back (MariaDB, H2) or aborted
            // (PostgreSQL) the whole transaction. Without this, on MariaDB the next statement would
            // silently start a new transaction that a later commit() makes half a unit of work.
            databaseRolledBack(e);
        } else {
            scopes[depth - 1].lastStatementFailed = true;
        }
        return e;
    }

    /**
     * Class 08 (connection exception), PostgreSQL's 57P01-57P03 (the server terminated the session), and
     * the JDBC class for them (H2 reports its closed sessions with a state of its own).
     */
    private static boolean isConnectionLost(SQLException e) {
        String state = e.getSQLState();
        return e instanceof java.sql.SQLNonTransientConnectionException
                || state != null && (state.startsWith("08") || state.startsWith("57P0"));
    }

    /** A call on the connection (transaction control, creating a statement) failed in the driver. */
    SQLException callFailed(SQLException e) {
        if (depth > 0 && isConnectionLost(e)) connectionLost(e);
        return e;
    }

    /** Nothing of the transaction survives a lost connection: forget it, and send nothing more. */
    private void connectionLost(SQLException cause) {
        if (depth == 0) return;
        String beganAt = scopes[0].beganAt();
        int open = depth;
        while (depth > 0) pop();
        transactionEnded();
        dropCallbacks();
        savepointStatement = null;
        warnOnce("connection lost in the transaction begun at " + beganAt, () -> "txguard: the connection was lost ("
                + failure(cause) + ") with " + open + " open scope(s); the database rolled back the transaction begun at "
                + beganAt);
    }

    /**
     * Checks a statement's SQL before it runs, and carries out the ones that control the transaction.
     * Returns true when the statement was consumed and must not be sent.
     */
    boolean control(int kind, String sql) throws SQLException {
        switch (kind) {
            case Sql.BEGIN:
            case Sql.BEGIN_WITH_MODES:
                begin(SQL, sql, kind);
                return true;
            case Sql.COMMIT:
                if (depth == 0 && pinned != null) {
                    plainCommit(SQL);
                    return true;
                }
                if (depth == 0) {
                    transactionEnded();
                    return false;
                }
                commit(SQL);
                return true;
            case Sql.ROLLBACK:
                if (depth == 0 && pinned != null) {
                    plainRollback(SQL);
                    return true;
                }
                if (depth == 0) {
                    transactionEnded();
                    return false;
                }
                rollback(SQL);
                return true;
            case Sql.AUTOCOMMIT_ON:
            case Sql.AUTOCOMMIT_OFF:
                setAutoCommit(kind == Sql.AUTOCOMMIT_ON);
                return true;
            case Sql.IMPLICIT_COMMIT:
                if (dialect.implicitCommitDdl) refuseImplicitCommitInNestedScope(Sql.leadingWords(sql, dialect));
                return false;
            case Sql.ISOLATION_CHANGE:
                if (dialect.isolationChangeCommits) refuseImplicitCommitInNestedScope(Sql.leadingWords(sql, dialect));
                return false;
            case Sql.UNSUPPORTED_CONTROL:
                if (depth > 0 || pinned != null) {
                    refuseOrReport("untranslatable control", Errors.state(Sql.leadingWords(sql, dialect) + " cannot be"
                            + " translated inside " + (depth > 0 ? "the transaction begun at " + scopes[0].beganAt()
                            : "the test transaction of " + pinned.database.testName())
                            + "; use commit(), rollback() or setAutoCommit() instead"));
                }
                return false;
            case Sql.MULTI_WITH_CONTROL:
                refuseOrReport("multi-statement control", Errors.state("a string of several statements that includes"
                        + " transaction control would bypass the guard: " + Sql.leadingWords(sql, dialect)
                        + ". Send the transaction-control statement on its own."));
                return false;
            default:
                return false;
        }
    }

    /** Before the driver's setTransactionIsolation, which commits the open transaction on some databases (H2, Derby). */
    void isolationChange(int level) throws SQLException {
        if (!dialect.isolationChangeCommits || depth <= 1 || pinned != null) return; // a pinned handle keeps the level
        if (!dialect.sameIsolationLevelCommits && real.getTransactionIsolation() == level) return;
        refuseImplicitCommitInNestedScope("setTransactionIsolation");
    }

    /** What the database would commit implicitly: refused in a nested scope, as no savepoint survives it. */
    private void refuseImplicitCommitInNestedScope(String what) throws SQLException {
        if (pinned != null) {
            throw Errors.implicitCommit(what + " would make " + dialect + " commit the test transaction of "
                    + pinned.database.testName() + " implicitly: what the test and the tests before it in the same"
                    + " transaction wrote would stay in the database. txguard refuses it under a test transaction."
                    + " Run it before the tests, on a connection txguard does not guard (a plain jdbc: URL), or in a test"
                    + " that commits for real and cleans up after itself.");
        }
        if (depth <= 1) return; // in the outermost scope, as without txguard
        refuseOrReport("implicit commit in a nested scope", Errors.implicitCommit(what + " would make " + dialect + " commit the"
                + " transaction begun at " + scopes[0].beganAt() + " implicitly, which no savepoint survives; txguard"
                + " refuses it inside the nested scope begun at " + scopes[depth - 1].beganAt()
                + ". Run it outside the transaction."));
    }

    /** For statements that cannot carry transaction control (batches, executeQuery). */
    void refuseControl(int kind, String sql, String where) throws SQLException {
        if (Sql.controlsTransaction(kind)) {
            refuseOrReport("control in " + where, Errors.state(Sql.describe(kind) + " cannot run through " + where
                    + ": " + Sql.leadingWords(sql, dialect) + ". Use commit(), rollback() or setAutoCommit() instead."));
        } else {
            control(kind, sql);
        }
    }

    // ---------------------------------------------------------------- application savepoints

    Savepoint setSavepoint(String name) throws SQLException {
        beforeStatement(); // our savepoint must come first, so that rolling back the scope covers the app's
        Savepoint sp;
        try {
            sp = realSetSavepoint(name);
        } finally {
            if (pinned != null) pinned.statementSucceeded(); // the call that beforeStatement began is over
        }
        if (appSavepoints == null) appSavepoints = new ArrayList<>(4);
        appSavepoints.add(new AppSavepoint(sp, nextSavepointId));
        return sp;
    }

    void rollback(Savepoint savepoint) throws SQLException {
        if (depth > 1) reconcile(CallStack.capture(config));
        realRollback(savepoint);
        int index = indexOf(savepoint);
        if (index < 0) return;
        long since = appSavepoints.get(index).nextIdAtCreation;
        // The database destroyed every savepoint set after this one, ours included.
        for (int i = 0; i < depth; i++) {
            if (scopes[i].savepoint != null && scopes[i].savepointId >= since) scopes[i].savepoint = null;
        }
        appSavepoints.subList(index + 1, appSavepoints.size()).clear();
        if (handedOut && depth > 1 && !observe) setSavepoints();
    }

    void releaseSavepoint(Savepoint savepoint) throws SQLException {
        if (depth > 1) reconcile(CallStack.capture(config)); // scopes whose owners returned release their savepoints first
        int index = indexOf(savepoint);
        if (index >= 0 && dialect.releaseDestroysLaterSavepoints) {
            long since = appSavepoints.get(index).nextIdAtCreation;
            for (int i = 1; i < depth; i++) {
                if (scopes[i].savepoint != null && scopes[i].savepointId >= since) {
                    refuseOrReport("release of an earlier savepoint", Errors.state("releasing this savepoint would make "
                            + dialect + " destroy the savepoint of the nested scope begun at " + scopes[i].beganAt()
                            + ", which could then no longer roll back alone. Release it after that scope ends."));
                }
            }
        }
        realReleaseSavepoint(savepoint);
        if (index >= 0) appSavepoints.remove(index);
    }

    /** See {@link #handedOut}: from now on, and for the nested scopes open now, savepoints are set at once. */
    void driverObjectsHandedOut() throws SQLException {
        handedOut = true;
        if (depth > 1 && !observe && scopes[depth - 1].rollbackOnlyReason == null) setSavepoints();
    }

    /** For tests: see {@link #handedOut}. */
    boolean setsSavepointsAtOnce() {
        return handedOut;
    }

    /** Nothing the application holds is the driver's own any more (see TxConnection.goesOutInstead). */
    void driverObjectsTakenBack() {
        handedOut = false;
    }

    /** Under the agent, an unwrapped driver connection's own methods go to the database only while this is true. */
    boolean isCallingReal() {
        return callingReal > 0;
    }

    /** For tests: the scopes open now. */
    int openScopes() {
        return depth;
    }

    /**
     * Where the outermost scope the application opened in a test level (or one inside it) began, or null when none
     * is open (a test's leak check). A scope opened before, in the class's transaction, is not that test's.
     */
    String openScopeBeganAt(int level) {
        for (int i = 0; i < depth; i++) {
            if (scopes[i].testLevel >= level && scopes[i].kind != IMPLICIT) return scopes[i].beganAt();
        }
        return null;
    }

    /**
     * A test level has ended and rolled back (see TestTransactions): the scopes opened in it, left open, and the
     * callbacks registered in them are forgotten, as the work they belonged to is gone. Scopes opened before it (a
     * framework's transaction around the test, begun in the class's transaction) go on.
     */
    void testLevelEnded(int level) {
        int keep = 0;
        while (keep < depth && scopes[keep].testLevel < level) keep++;
        if (keep == depth) return;
        dropCallbacksOf(scopes[keep]);
        while (depth > keep) pop();
        if (depth == 0) {
            transactionEnded();
            dropCallbacks();
            realAutoCommit = pinned.autoCommit();
        }
        endedBeginStack = null;
    }

    /** For tests: the application savepoints still tracked (they must not outlive their transaction). */
    int trackedApplicationSavepoints() {
        return appSavepoints == null ? 0 : appSavepoints.size();
    }

    /** The real transaction committed or rolled back: nothing is pending, and its savepoints are gone. */
    private void transactionEnded() {
        pending = false;
        if (appSavepoints != null) appSavepoints.clear();
    }

    private int indexOf(Savepoint savepoint) {
        if (appSavepoints == null) return -1;
        for (int i = appSavepoints.size() - 1; i >= 0; i--) {
            if (appSavepoints.get(i).savepoint == savepoint) return i;
        }
        return -1;
    }

    // ---------------------------------------------------------------- on-commit callbacks

    /**
     * TxGuard.onCommit: runs the callback at once when no transaction is open, otherwise after the real commit of
     * the transaction open now, or never if the scope it is registered in is undone first (docs/side-effects.md).
     */
    void onCommit(Runnable callback) throws SQLException {
        if (runningCallbacks && !pending && depth <= roundDepth) {
            due.add(callback); // registered by a callback, with no new work open: this commit's round
            return;
        }
        if (depth == 0 && realAutoCommit) {
            // No transaction open: as after a commit, a round of its own.
            if (due == null) due = new java.util.ArrayDeque<>(4);
            due.add(callback);
            runCallbacks();
            return;
        }
        // A nested scope whose owner has returned is settled first (merged, or undone), as at any event: the callback
        // belongs to the scope its caller is in, not to one that is over.
        if (depth > 1) reconcile(CallStack.capture(config));
        // In manual mode with no scope open, the connection's transaction (begun at its first statement) holds it:
        // serial 0, which no scope's undoing reaches, and which a scope begun now continues.
        if (onCommit == null) onCommit = new ArrayList<>(4);
        onCommit.add(new OnCommit(depth == 0 ? 0 : scopes[depth - 1].serial, callback));
    }

    /** The real transaction committed: its callbacks are due, to run as the event that committed it ends. */
    private void committed() {
        if (onCommit == null || onCommit.isEmpty()) return;
        if (due == null) due = new java.util.ArrayDeque<>(onCommit.size());
        for (OnCommit c : onCommit) due.add(c.callback);
        onCommit.clear();
    }

    /** The real transaction is over without a commit, or its commit was not seen: its callbacks never run. */
    private void dropCallbacks() {
        if (onCommit != null) onCommit.clear();
    }

    /** A scope's work is undone: the callbacks registered in it, or in scopes inside it, never run. */
    private void dropCallbacksOf(Scope s) {
        if (onCommit == null) return;
        for (int i = onCommit.size() - 1; i >= 0 && onCommit.get(i).serial >= s.serial; i--) onCommit.remove(i);
    }

    /**
     * Runs the callbacks due, in registration order, once the event that committed is handled and the connection is
     * as the application will see it next. A callback that throws is logged with its failure, and the others still
     * run: the commit stands, and an exception from commit() would tell legacy code that it did not, which code
     * that retries or compensates on failure would act on. Callbacks that register callbacks run in the same round.
     */
    private void runCallbacks() {
        if (runningCallbacks || due == null || due.isEmpty()) return;
        runningCallbacks = true;
        roundDepth = depth;
        try {
            for (Runnable callback; (callback = due.poll()) != null; ) {
                if (pinned != null && pinned.database.captured(callback)) continue; // a test holds it instead
                try {
                    callback.run();
                } catch (RuntimeException failed) {
                    Runnable which = callback;
                    LOG.log(Level.ERROR, () -> "txguard: an on-commit callback (" + which.getClass().getName() + ")"
                            + " failed after its transaction committed; the commit stands, and the other callbacks"
                            + " ran", failed);
                }
            }
        } finally {
            runningCallbacks = false;
            due.clear(); // an Error escaped a callback: the rest of this round is dropped with it
        }
    }

    // ---------------------------------------------------------------- end of the connection's use

    /** clearWarnings and endRequest: a pool handing the connection back (or a close) is the moment to clean up. */
    void maybeReturningToPool(boolean certain) throws SQLException {
        if (depth == 0) return;
        if (certain || CallStack.capture(config).inPoolsHands) returnToPool();
    }

    /** Rolls back what is open, then closes the real connection. */
    void close() throws SQLException {
        try {
            if (real.isClosed()) return;
            if (depth > 0) {
                abandon("closed");
            } else if (pending && !giversTransaction) {
                realRollback(); // no commit-on-close through txguard, whatever the driver would do
            }
        } finally {
            callingReal++;
            try {
                real.close();
            } finally {
                callingReal--;
            }
        }
    }

    private void returnToPool() throws SQLException {
        abandon("returned to its pool");
    }

    /** Rolls back whatever is open and leaves the connection as it was opened (or as its pool set it up). */
    private void abandon(String how) throws SQLException {
        if (giversTransaction && scopes[0].kind == IMPLICIT) {
            leaveTheGiversTransaction(how);
            return;
        }
        if (pending) {
            String beganAt = scopes[0].beganAt();
            int open = depth;
            warnOnce("connection " + how + " with work open in the transaction begun at " + beganAt, () -> "txguard:"
                    + " connection " + how + " with " + open + " open scope(s) and uncommitted work; the transaction"
                    + " begun at " + beganAt + " is rolled back");
        }
        if (!realAutoCommit) realRollback();
        while (depth > 0) pop();
        transactionEnded();
        if (realAutoCommit != defaultAutoCommit) {
            realSetAutoCommit(defaultAutoCommit);
            realAutoCommit = defaultAutoCommit;
        }
    }

    /**
     * Abandons the nested scopes open in a transaction that is not txguard's (see {@link #giversTransaction}): what
     * they did since their first savepoint is undone, the rest of the transaction is left to its owner.
     */
    private void leaveTheGiversTransaction(String how) throws SQLException {
        Scope undone = null;
        for (int i = 1; i < depth && undone == null; i++) {
            if (scopes[i].savepoint != null) undone = scopes[i];
        }
        if (depth > 1) {
            int open = depth - 1;
            String firstBeganAt = scopes[1].beganAt();
            String rolledBack = undone == null ? "" : "the work of the scope begun at " + undone.beganAt()
                    + " is rolled back to its savepoint; ";
            warnOnce("connection " + how + " with scopes open in its giver's transaction, the first begun at "
                    + firstBeganAt, () -> "txguard: connection " + how + " with " + open + " open scope(s), the first"
                    + " begun at " + firstBeganAt + ", in a transaction that came with the connection (a transaction"
                    + " manager's or a pool's); " + rolledBack + "the rest is left to that transaction's owner");
        }
        if (undone != null && !observe) rollbackToSavepoint(undone);
        while (depth > 0) pop();
        dropCallbacks(); // the giver's commit, if it comes, is not seen here
    }

    // ---------------------------------------------------------------- the ownership model

    /**
     * Moves every scope whose owner has returned to the nearest surviving frame of its begin stack,
     * and merges a scope into the one below it when both now have the same owner.
     */
    private void reconcile(CallStack here) throws SQLException {
        boolean passed = false;
        for (int i = depth - 1; i >= 0; i--) {
            Scope s = scopes[i];
            if (s.ownerIndex == ANYONE) continue;
            if (s.ownerPosition(here) >= 0) break; // owner alive, and so are the owners of the scopes below
            passed = true;
            int index = s.ownerIndex;
            s.ownerFoundAt(here, ANYONE, -1); // when no frame survived (another thread, say)
            while (++index < s.beginStack.walked()) {
                int at = here.find(s.beginStack, index);
                if (at >= 0) {
                    s.ownerFoundAt(here, index, at);
                    break;
                }
            }
        }
        // Only a scope that passed to another frame can now share its owner with the scope below.
        while (passed && depth > 1 && sameOwner(scopes[depth - 1], scopes[depth - 2], here)) {
            Scope merged = scopes[depth - 1];
            // Its owner returned right after a statement failed: the error escaped it, and like an exception
            // leaving Django's atomic block, that undoes the scope (on PostgreSQL nothing else could).
            boolean leftByAnError = merged.lastStatementFailed && merged.savepoint != null;
            if (leftByAnError) {
                warnOnce("scope left by an error, begun at " + merged.beganAt(), () -> "txguard: the scope begun at "
                        + merged.beganAt() + " was left by an error; its work is rolled back to its savepoint and the"
                        + " enclosing scope carries on");
            }
            release(merged, leftByAnError || merged.rollbackOnlyReason != null);
            pop();
        }
    }

    /** Ends a nested scope: its work joins the enclosing scope unless it was marked rollback-only. */
    private void endNested(Scope s) throws SQLException {
        release(s, s.rollbackOnlyReason != null);
        pop();
    }

    private static boolean sameOwner(Scope inner, Scope outer, CallStack here) {
        if (inner.ownerIndex == ANYONE || outer.ownerIndex == ANYONE) return inner.ownerIndex == outer.ownerIndex;
        int at = inner.ownerPosition(here);
        return at >= 0 && at == outer.ownerPosition(here);
    }

    /** A nested scope ended by an end event (not merged because its owner left): remember whose it was. */
    private void rememberEnded(Scope s) {
        endedBeginStack = s.beginStack;
        endedOwnerIndex = s.ownerIndex;
    }

    /** An end event from the very activation whose nested scope already ended: a no-op, as in plain JDBC. */
    private boolean afterItsOwnScopeEnded(CallStack here) {
        if (observe || endedBeginStack == null || endedOwnerIndex < 0) return false;
        if (here.callerIs(endedBeginStack, endedOwnerIndex)) return true;
        // Its caller is running on top: that activation has returned, and no later event can be its.
        // Forgetting it spares the walks that looking for it would cost (see restore's fast path).
        if (here.callerIs(endedBeginStack, endedOwnerIndex + 1)) endedBeginStack = null;
        return false;
    }

    private void endOutermost(Scope s) throws SQLException {
        pop();
        if (s.restoreAutoCommit) {
            realSetAutoCommit(true);
            realAutoCommit = true;
        }
    }

    /** Releases a scope's savepoint, rolling back to it first when asked or when the database insists. */
    private void release(Scope s, boolean rollBackFirst) throws SQLException {
        if (rollBackFirst) dropCallbacksOf(s);
        String sp = s.savepoint;
        if (sp == null) return;
        s.savepoint = null;
        String[] sql = savepointSqlAt(s.index);
        try {
            if (rollBackFirst) sendSavepoint(s, sql, ROLLBACK_TO);
            sendSavepoint(s, sql, RELEASE);
        } catch (SQLException e) {
            if (isMissingSavepoint(e) && !rollBackFirst && !dialect.errorAbortsTransaction) {
                // Already released: resynchronise. (On PostgreSQL the failed RELEASE has aborted the
                // transaction, so there it is reported as the end of the transaction instead.)
                LOG.log(Level.DEBUG, () -> "txguard: savepoint " + sp + " was already released");
                return;
            }
            if (isMissingSavepoint(e)) checkTransactionSurvived(s, e);
            if (!rollBackFirst && "25P02".equals(e.getSQLState())) {
                // PostgreSQL aborted the transaction on an error in this scope, and nobody rolled the scope
                // back: the only way to make the connection usable is to undo the scope, as Django does.
                dropCallbacksOf(s);
                sendSavepoint(s, sql, ROLLBACK_TO);
                sendSavepoint(s, sql, RELEASE);
                warnOnce("scope ended in an aborted transaction, begun at " + s.beganAt(), () -> "txguard: the scope"
                        + " begun at " + s.beganAt() + " ended after a failed statement left the transaction aborted;"
                        + " rolled back to its savepoint");
                return;
            }
            throw e;
        }
    }

    private void rollbackToSavepoint(Scope s) throws SQLException {
        try {
            sendSavepoint(s, savepointSqlAt(s.index), ROLLBACK_TO);
        } catch (SQLException e) {
            if (isMissingSavepoint(e)) checkTransactionSurvived(s, e);
            throw e;
        }
    }

    /** A savepoint vanished: the database ended the transaction (DDL, deadlock, timeout) behind our back. */
    private void checkTransactionSurvived(Scope s, SQLException cause) throws SQLException {
        String beganAt = scopes[0].beganAt();
        String scope = s.beganAt();
        databaseRolledBack(cause);
        throw Errors.state("the savepoint of the scope begun at " + scope + " no longer exists: the database ended the"
                + " transaction begun at " + beganAt + " on its own (an implicit commit or a rollback). Every scope of it"
                + " is now rollback-only; end them and retry the unit of work.", cause);
    }

    /**
     * The database ended the whole transaction on its own. With no nested scope open this is plain JDBC, which the
     * application learns from the database's own error: nothing is logged. With nested scopes open it is said once
     * per call site (see SaidOnce), as serialization failures can come by the thousand.
     */
    private void databaseRolledBack(SQLException cause) {
        String reason = "the database ended the whole transaction (" + failure(cause) + ")";
        transactionEnded();
        dropCallbacks();
        try {
            realRollback();
        } catch (SQLException ignored) {
            // the transaction is gone either way; the connection's own error surfaces on next use
        }
        for (int i = 0; i < depth; i++) {
            scopes[i].savepoint = null;
            scopes[i].rollbackOnlyReason = reason;
        }
        if (depth > 1) {
            int open = depth;
            String failedAt = CallStack.capture(config).describe(0);
            warnOnce("database ended the transaction at " + failedAt, () -> "txguard: " + reason + " at " + failedAt
                    + ", with " + (open - 1) + " nested scope(s) open; all " + open + " open scopes are rollback-only"
                    + " until their owners end them");
        }
    }

    private static final int NAME = 0;
    static final int SET = 1;
    static final int ROLLBACK_TO = 2;
    static final int RELEASE = 3;

    /**
     * The savepoint statements of the scope at an index, made once per connection: a scope's savepoint is
     * named after its place (txguard_1, txguard_2, ...), which no other open scope holds. The same text every
     * time lets the database reuse its parse (H2 caches it, where a new name each time would also push the
     * application's own statements out of that cache), and allocates nothing.
     */
    private String[] savepointSqlAt(int index) {
        if (index >= savepointSql.length) savepointSql = java.util.Arrays.copyOf(savepointSql, Math.max(4, index * 2));
        String[] sql = savepointSql[index];
        if (sql == null) {
            String name = (pinned == null ? "txguard_" : pinned.savepointPrefix) + index;
            sql = new String[] {name, dialect.setSavepointSql(name), dialect.rollbackToSavepointSql(name),
                dialect.releaseSavepointSql(name)};
            savepointSql[index] = sql;
        }
        return sql;
    }

    /** One of a scope's savepoint operations (SET, ROLLBACK_TO, RELEASE): as SQL, or through JDBC where the dialect asks. */
    private void sendSavepoint(Scope s, String[] sql, int operation) throws SQLException {
        if (pinned != null) {
            s.jdbcSavepoint = pinned.engineSavepoint(s.jdbcSavepoint, sql[NAME], operation);
            return;
        }
        if (!dialect.savepointsThroughJdbc) {
            sendSavepointSql(sql[operation]);
            return;
        }
        try {
            if (operation == SET) {
                s.jdbcSavepoint = realSetSavepoint(sql[NAME]);
            } else if (operation == ROLLBACK_TO) {
                realRollback(s.jdbcSavepoint);
            } else {
                Savepoint released = s.jdbcSavepoint;
                s.jdbcSavepoint = null;
                realReleaseSavepoint(released);
            }
        } catch (SQLException e) {
            throw callFailed(e);
        }
    }

    private void sendSavepointSql(String sql) throws SQLException {
        if (sql == null) return; // the database has no such statement (Oracle: RELEASE)
        try {
            if (savepointStatement == null) savepointStatement = real.createStatement();
            savepointStatement.execute(sql);
        } catch (SQLException e) {
            throw callFailed(e);
        }
    }

    private static boolean isMissingSavepoint(SQLException e) {
        String state = e.getSQLState();
        return "3B001".equals(state) || "3B000".equals(state)
                || e.getErrorCode() == 1305 // MariaDB, MySQL: SAVEPOINT does not exist
                || e.getErrorCode() == 90063 // H2: savepoint is invalid
                || e.getErrorCode() == 1 && String.valueOf(e.getMessage()).contains("no such savepoint"); // SQLite
    }

    private void checkDurability(CallStack here) throws SQLException {
        if (!config.checksDurability()) return;
        int durable = here.innermostMatching(config.durable);
        if (durable < 0) return;
        int outerOwner = depth > 0 ? scopes[0].ownerPosition(here) : -1;
        if (outerOwner >= 0 && outerOwner <= durable) return; // begun inside the durable method
        String enclosing = depth == 0 || scopes[0].kind == IMPLICIT ? IMPLICIT_DESCRIPTION : "begun at " + scopes[0].beganAt();
        String method = here.method(durable);
        String message = "durable method " + method + " began a transaction at " + here.describe(0)
                + ", but the connection already has one open (" + enclosing + "). A durable block must be the outermost"
                + " transaction so that its commit is real. Fix: call " + method + " outside the enclosing transaction"
                + " (commit or end it first), or remove it from txguard.durable.";
        if (observe) {
            report(here, "durable", message);
        } else if (config.durability == Config.Durability.FAIL) {
            throw Errors.durable(message);
        } else {
            warnOnce("durable method " + method + " nested at " + here.describe(0) + " in " + enclosing,
                    () -> "txguard: " + message + " Carrying on as a savepoint (txguard.durability=warn).");
        }
    }

    // ---------------------------------------------------------------- plain JDBC, for observe mode and no scope

    private void plainBegin(int kind, String sql) throws SQLException {
        if (kind == SQL && pinned != null) {
            executePlain("BEGIN");
        } else if (kind == SQL) {
            try (Statement s = real.createStatement()) {
                s.execute(sql);
            }
            realAutoCommit = realGetAutoCommit();
        } else {
            realSetAutoCommit(false);
            realAutoCommit = false;
        }
    }

    private void plainCommit(int kind) throws SQLException {
        if (kind == API) {
            realCommit();
        } else {
            executePlain("COMMIT");
            committed();
        }
        transactionEnded();
    }

    private void plainRollback(int kind) throws SQLException {
        if (kind == API) {
            realRollback();
        } else {
            dropCallbacks();
            executePlain("ROLLBACK");
        }
        transactionEnded();
    }

    private void executePlain(String sql) throws SQLException {
        if (pinned != null) {
            pinned.plainControl(sql); // played inside the test transaction, never sent
            realAutoCommit = pinned.autoCommit();
            return;
        }
        try (Statement s = real.createStatement()) {
            s.execute(sql);
        }
        realAutoCommit = realGetAutoCommit();
    }

    // ---------------------------------------------------------------- the real connection's transaction methods
    // Called only through these. While one runs, the agent lets an unwrapped driver connection's own methods
    // through to the database; the application's calls of them come to this engine (UnwrappedConnections).

    private boolean realGetAutoCommit() throws SQLException {
        callingReal++;
        try {
            return real.getAutoCommit();
        } finally {
            callingReal--;
        }
    }

    private void realSetAutoCommit(boolean autoCommit) throws SQLException {
        boolean commits = autoCommit && !realAutoCommit; // as JDBC specifies
        callingReal++;
        try {
            real.setAutoCommit(autoCommit);
        } catch (SQLException notCommitted) {
            if (commits) dropCallbacks();
            throw notCommitted;
        } finally {
            callingReal--;
        }
        if (commits) committed();
    }

    private void realCommit() throws SQLException {
        callingReal++;
        try {
            real.commit();
        } catch (SQLException notCommitted) {
            dropCallbacks(); // a commit that failed, or that may not have happened: no side effect is safer
            throw notCommitted;
        } finally {
            callingReal--;
        }
        committed();
    }

    private void realRollback() throws SQLException {
        dropCallbacks();
        callingReal++;
        try {
            real.rollback();
        } finally {
            callingReal--;
        }
    }

    private void realRollback(Savepoint savepoint) throws SQLException {
        callingReal++;
        try {
            real.rollback(savepoint);
        } finally {
            callingReal--;
        }
    }

    private Savepoint realSetSavepoint(String name) throws SQLException {
        callingReal++;
        try {
            return name == null ? real.setSavepoint() : real.setSavepoint(name);
        } finally {
            callingReal--;
        }
    }

    private void realReleaseSavepoint(Savepoint savepoint) throws SQLException {
        callingReal++;
        try {
            real.releaseSavepoint(savepoint);
        } finally {
            callingReal--;
        }
    }

    // ---------------------------------------------------------------- reporting and the stack of scopes

    private void refuseOrReport(String what, SQLException error) throws SQLException {
        if (!observe || pinned != null) throw error; // nothing a test transaction cannot survive is let through
        report(CallStack.capture(config), what, error.getMessage());
    }

    /** Observe mode's finding: logged once per database kind, call site and kind of event. */
    private void report(CallStack here, String what, String message) {
        String site = here.describe(0);
        warnOnce(what + " at " + site, () -> "txguard " + what + " at " + site + ": " + message);
    }

    /** A warning about an event that can repeat: said once per database kind and key (see SaidOnce). */
    private void warnOnce(String key, Supplier<String> message) {
        SaidOnce.warn(dialect + ": " + key, message);
    }

    private Scope push(Scope s) {
        if (depth == scopes.length) scopes = java.util.Arrays.copyOf(scopes, depth * 2);
        s.index = depth;
        s.serial = nextScopeSerial++;
        if (pinned != null) s.testLevel = pinned.database.levelIndex();
        scopes[depth++] = s;
        if (depth == 1) {
            beganOn = Thread.currentThread();
            if (trackOpenTransactions) OPEN_ON_THREAD.get().add(this);
        }
        return s;
    }

    /**
     * A begin nests in a transaction another thread began. A transaction may go on on another thread, but
     * mostly this is a pool handing on a connection whose last borrower left scopes open, without resetting it
     * as it took it back, through a handle whose return txguard cannot see: then this begin nests in what was
     * left open, and its commit is not real. Said once per pair of begin sites (see SaidOnce).
     */
    private void nestedOnAnotherThread(CallStack here) {
        Thread previous = beganOn;
        Thread now = Thread.currentThread();
        beganOn = now;
        String beganAt = scopes[0].beganAt();
        String begins = here.describe(0);
        warnOnce("begin at " + begins + " nested in the transaction of another thread begun at " + beganAt,
                () -> "txguard: a begin at " + begins + " on thread " + now.getName()
                + " nests in the transaction begun at " + beganAt + " on thread " + previous.getName() + ". If a pool"
                + " handed the connection on, the last borrower left that transaction open and the pool did not reset"
                + " the connection as it took it back: this scope's commit will not commit. Have the pool reset"
                + " connections it takes back (Vibur: resetDefaultsAfterUse=true).");
    }

    private void pop() {
        scopes[--depth] = null;
        if (depth == 0) {
            endedBeginStack = null;
            if (trackOpenTransactions) OPEN_ON_THREAD.get().remove(this);
        }
    }

    /**
     * A durable method is returning (the agent calls this from its exit): a transaction it began, on any
     * connection, must not outlive it, or its work was never committed for real.
     */
    static void durableMethodReturned(boolean throwing) throws SQLException {
        List<Engine> open = OPEN_ON_THREAD.get();
        if (open.isEmpty()) return;
        CallStack here = CallStack.captureWhole(new MethodPattern[0]);
        for (Engine engine : open.toArray(new Engine[0])) {
            engine.checkDurableReturn(here, throwing);
        }
    }

    private void checkDurableReturn(CallStack here, boolean throwing) throws SQLException {
        if (depth == 0 || scopes[0].beginStack == null || !here.hasCaller()) return;
        // Begun inside the returning method (its frame is the caller now) when the nearest frame of the begin
        // stack still running is that method's own.
        CallStack began = scopes[0].beginStack;
        int nearest = -1;
        for (int index = 0; index < began.walked() && nearest < 0; index++) nearest = here.find(began, index);
        if (nearest != 0) return; // begun outside it
        String message = "durable method " + here.method(0) + " returned with the transaction begun at "
                + scopes[0].beganAt() + " still open: its work is not committed. A durable block must commit (or"
                + " roll back) and end its transaction before it returns.";
        if (config.durability == Config.Durability.FAIL && !observe && !throwing) throw Errors.durable(message);
        warnOnce("durable method " + here.method(0) + " returned with the transaction begun at " + scopes[0].beganAt()
                + " open", () -> "txguard: " + message);
    }
}
