package dev.txguard.internal;

import java.sql.CallableStatement;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;

/**
 * What the engine of a connection opened under a test transaction (see TestTransactions) takes for its real
 * connection: a handle on the one physical connection pinned for its database, which plays a connection of its
 * own inside the test transaction. Its autocommit is its own; its transaction is a savepoint in the test
 * transaction, set before its first statement, released by its commit (the work joins the test transaction,
 * where every other handle sees it, as after a real commit) and rolled back to by its rollback. Its close, and
 * a pool's eviction or reset, reach only this handle; nothing it does ends the test transaction.
 *
 * <p>Used from one thread at a time, as the connection it plays; threads take turns on the physical connection
 * beneath, one call at a time (see TestTransactions.Database.use).
 */
final class PinnedConnection extends ConnectionBase {

    final TestTransactions.Database database;
    /** Names this handle's savepoints, and those of its engine's nested scopes: no other handle's clash with them. */
    final String savepointPrefix;
    Engine engine;
    private boolean autoCommit;
    /** Autocommit was turned off by a SQL BEGIN, and comes back on with the SQL COMMIT or ROLLBACK that ends it. */
    private boolean begunBySql;
    private boolean closed;
    /**
     * The start of this handle's transaction in manual mode: set before its first statement, as late as can be, so
     * that a rollback undoes as little of what other handles did meanwhile as it can; null outside a transaction.
     */
    private TestTransactions.Mark start;
    /**
     * In autocommit mode on a database where a failed statement aborts the whole transaction (PostgreSQL): a
     * savepoint around each statement, so that a failure undoes only that statement, as in production, and not
     * the test transaction.
     */
    private TestTransactions.Mark statementStart;
    private int nextApplicationSavepoint = 1;
    /** Kept, not sent: inside the test transaction these cannot change (PostgreSQL refuses, H2 and Derby commit). */
    private Integer isolation;
    private Boolean readOnly;

    PinnedConnection(TestTransactions.Database database, int id, boolean autoCommit) {
        super(database.physical);
        this.database = database;
        this.savepointPrefix = "txguard_t" + id + "_";
        this.autoCommit = autoCommit;
    }

    // ---------------------------------------------------------------- the handle's own transaction

    boolean autoCommit() {
        return autoCommit;
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        checkOpen();
        return autoCommit;
    }

    @Override
    public void setAutoCommit(boolean on) throws SQLException {
        usable();
        if (on == autoCommit) return;
        if (on) commit(); // JDBC: turning autocommit on commits
        autoCommit = on;
        begunBySql = false;
    }

    @Override
    public void commit() throws SQLException {
        boolean took = enter();
        try {
            endStart(false);
        } finally {
            leave(took);
        }
    }

    @Override
    public void rollback() throws SQLException {
        boolean took = enter();
        try {
            endStart(true);
        } finally {
            leave(took);
        }
    }

    /** The engine's plain SQL transaction control (observe mode, or no scope open): played, never sent. */
    void plainControl(String sql) throws SQLException {
        usable();
        if ("BEGIN".equals(sql)) {
            if (!autoCommit) return;
            setAutoCommit(false);
            begunBySql = true;
            return;
        }
        if ("ROLLBACK".equals(sql)) rollback(); else commit();
        if (begunBySql) {
            autoCommit = true;
            begunBySql = false;
        }
    }

    /** Before any statement of this handle runs, and before its engine sets a savepoint (Engine.beforeStatement). */
    void beforeStatement() throws SQLException {
        enter(); // given back as the statement ends (statementSucceeded, statementFailed)
        if (!autoCommit) {
            ensureStart();
        } else if (database.dialect.errorAbortsTransaction) {
            // One not released yet belongs to a call that reached no statement's end (an application savepoint's)
            if (statementStart != null) database.release(statementStart);
            statementStart = database.set(null, savepointPrefix + "s", this);
        }
    }

    void ensureStart() throws SQLException {
        if (start != null && start.removed) start = null; // its level ended
        if (start == null) start = database.set(null, savepointPrefix + "0", this);
    }

    /** A statement of this handle ran (Engine.statementSucceeded). */
    void statementSucceeded() throws SQLException {
        TestTransactions.Mark s = statementStart;
        statementStart = null;
        try {
            if (s != null) database.release(s);
        } finally {
            database.done();
        }
    }

    /** A statement of this handle failed: in autocommit mode it undoes nothing else, as in production. */
    void statementFailed(SQLException failure) {
        TestTransactions.Mark s = statementStart;
        statementStart = null;
        try {
            if (s != null) {
                database.rollbackTo(s);
                database.release(s);
            }
        } catch (SQLException e) {
            failure.addSuppressed(e);
        } finally {
            database.done();
        }
    }

    /** Commits (releases) or rolls back this handle's transaction; the next one starts at its first statement. */
    private void endStart(boolean rollBack) throws SQLException {
        TestTransactions.Mark s = start;
        if (s == null) return;
        start = null;
        if (rollBack) database.rollbackTo(s);
        database.release(s);
    }

    /**
     * One of the engine's savepoint operations for a nested scope (Engine.SET, ROLLBACK_TO, RELEASE): on this
     * connection's stack, as the handle's own. Returns the savepoint the scope holds afterwards.
     */
    Savepoint engineSavepoint(Savepoint current, String name, int operation) throws SQLException {
        boolean took = enter();
        try {
            if (operation == Engine.SET) return database.set(null, name, this);
            TestTransactions.Mark mark = (TestTransactions.Mark) current;
            if (operation == Engine.ROLLBACK_TO) {
                database.rollbackTo(mark);
                return mark;
            }
            database.release(mark);
            return null;
        } finally {
            leave(took);
        }
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        return setSavepoint(null);
    }

    @Override
    public Savepoint setSavepoint(String name) throws SQLException {
        boolean took = enter();
        try {
            return database.set(name, savepointPrefix + "a" + nextApplicationSavepoint++, this);
        } finally {
            leave(took);
        }
    }

    @Override
    public void rollback(Savepoint savepoint) throws SQLException {
        boolean took = enter();
        try {
            database.rollbackTo(mine(savepoint));
        } finally {
            leave(took);
        }
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        boolean took = enter();
        try {
            database.release(mine(savepoint));
        } finally {
            leave(took);
        }
    }

    private TestTransactions.Mark mine(Savepoint savepoint) throws SQLException {
        if (savepoint instanceof TestTransactions.Mark && ((TestTransactions.Mark) savepoint).owner == this) {
            TestTransactions.Mark mark = (TestTransactions.Mark) savepoint;
            if (!mark.removed) return mark;
        }
        throw new SQLException("txguard: the savepoint is not set on this connection", "3B001");
    }

    /**
     * A test level ends (TestTransactions): the savepoints set in it are gone with its rollback, and an engine
     * that still has scopes open (the test left them open) forgets them, so that the next test starts clean.
     */
    void levelEnded(int level) {
        if (start != null && start.removed) start = null;
        if (statementStart != null && statementStart.removed) statementStart = null;
        if (engine != null) engine.testLevelEnded(level);
    }

    /** Where the scope this handle's application opened in the level (or inside it) and left open began, or null. */
    String openScopeBeganAt(int level) {
        return engine == null ? null : engine.openScopeBeganAt(level);
    }

    // ---------------------------------------------------------------- use and end of the handle

    private void checkOpen() throws SQLException {
        if (closed) throw new SQLException("txguard: the connection is closed", "08003");
    }

    /** Open, and inside a test transaction that pins connections: otherwise no physical connection is its. */
    private void usable() throws SQLException {
        checkOpen();
        database.checkUsable();
    }

    /**
     * A call on the physical connection begins: one thread at a time (see TestTransactions.Database.use). True when
     * this call took the connection, and is to give it back; false inside a call of this thread already under way
     * (a savepoint the engine sets for the statement about to run), which gives it back at its end.
     */
    private boolean enter() throws SQLException {
        usable();
        return database.use();
    }

    private void leave(boolean took) {
        if (took) database.done();
    }

    @Override
    public void close() throws SQLException {
        if (closed) return;
        try {
            if (database.inUse()) { // the engine rolled back what it knew of; this ends the savepoint
                boolean took = database.use();
                try {
                    endStart(true);
                } finally {
                    leave(took);
                }
            }
        } finally {
            closed = true;
            database.closed(this);
        }
    }

    @Override
    public void abort(java.util.concurrent.Executor executor) throws SQLException {
        close(); // the physical connection is the test's: only this handle ends
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public boolean isValid(int timeout) throws SQLException {
        // Between tests too: a pool that validated it then would evict it and open one outside any test transaction.
        return !closed && delegate.isValid(timeout);
    }

    @Override
    public void beginRequest() {
        // the physical connection's requests are the test's
    }

    @Override
    public void endRequest() {
        // as beginRequest
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        checkOpen();
        isolation = level;
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        checkOpen();
        return isolation != null ? isolation : delegate.getTransactionIsolation();
    }

    @Override
    public void setReadOnly(boolean value) throws SQLException {
        checkOpen();
        readOnly = value;
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        checkOpen();
        return readOnly != null ? readOnly : delegate.isReadOnly();
    }

    @Override
    <T> T unwrapped(T driverObject) {
        return driverObject;
    }

    // ---------------------------------------------------------------- statements go to the physical connection

    @Override
    public Statement createStatement() throws SQLException {
        boolean took = enter();
        try {
            return delegate.createStatement();
        } finally {
            leave(took);
        }
    }

    @Override
    public Statement createStatement(int type, int concurrency) throws SQLException {
        boolean took = enter();
        try {
            return delegate.createStatement(type, concurrency);
        } finally {
            leave(took);
        }
    }

    @Override
    public Statement createStatement(int type, int concurrency, int holdability) throws SQLException {
        boolean took = enter();
        try {
            return delegate.createStatement(type, concurrency, holdability);
        } finally {
            leave(took);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        boolean took = enter();
        try {
            return delegate.prepareStatement(sql);
        } finally {
            leave(took);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        boolean took = enter();
        try {
            return delegate.prepareStatement(sql, autoGeneratedKeys);
        } finally {
            leave(took);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        boolean took = enter();
        try {
            return delegate.prepareStatement(sql, columnIndexes);
        } finally {
            leave(took);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        boolean took = enter();
        try {
            return delegate.prepareStatement(sql, columnNames);
        } finally {
            leave(took);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency) throws SQLException {
        boolean took = enter();
        try {
            return delegate.prepareStatement(sql, type, concurrency);
        } finally {
            leave(took);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency, int holdability)
            throws SQLException {
        boolean took = enter();
        try {
            return delegate.prepareStatement(sql, type, concurrency, holdability);
        } finally {
            leave(took);
        }
    }

    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        boolean took = enter();
        try {
            return delegate.prepareCall(sql);
        } finally {
            leave(took);
        }
    }

    @Override
    public CallableStatement prepareCall(String sql, int type, int concurrency) throws SQLException {
        boolean took = enter();
        try {
            return delegate.prepareCall(sql, type, concurrency);
        } finally {
            leave(took);
        }
    }

    @Override
    public CallableStatement prepareCall(String sql, int type, int concurrency, int holdability) throws SQLException {
        boolean took = enter();
        try {
            return delegate.prepareCall(sql, type, concurrency, holdability);
        } finally {
            leave(took);
        }
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        checkOpen();
        return delegate.getMetaData();
    }
}
