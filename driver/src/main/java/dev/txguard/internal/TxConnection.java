package dev.txguard.internal;

import java.sql.CallableStatement;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;

/** The guarded connection: transaction calls become engine events, statements come back wrapped. */
final class TxConnection extends ConnectionBase {

    final Engine engine;
    /** The driver's own connections the application unwrapped this one to; null until it does. */
    private java.util.List<java.sql.Connection> unwrapped;

    TxConnection(java.sql.Connection delegate, Engine engine) {
        super(delegate);
        this.engine = engine;
    }

    @Override
    <T> T unwrapped(T driverObject) throws SQLException {
        return handedOut(driverObject);
    }

    /**
     * One of the driver's own objects reached the application (unwrap, here or on a statement, result set or
     * metadata): through it, its connection can be called without this guard. Under the agent such calls come
     * back here (UnwrappedConnections); statements it runs are covered by the engine's savepoints.
     */
    <T> T handedOut(T driverObject) throws SQLException {
        java.sql.Connection driverConnection =
                driverObject instanceof java.sql.Connection ? (java.sql.Connection) driverObject : delegate;
        if (unwrapped == null) unwrapped = new java.util.ArrayList<>(2);
        if (!isUnwrapped(driverConnection)) {
            unwrapped.add(driverConnection);
            UnwrappedConnections.register(driverConnection, this);
        }
        engine.driverObjectsHandedOut();
        return driverObject;
    }

    /**
     * Put over its connection in place (Guard.guardInPlace): the application may hold that connection rather
     * than this guard, so its transaction calls come here, as an unwrapped connection's do.
     */
    void guardInPlace() throws SQLException {
        UnwrappedConnections.holdInPlace(this);
        handedOut(delegate);
    }

    /**
     * Goes out in its connection's place after all (the interface's bridge, or a wrapper of the pool, returns
     * this guard instead of the connection it was put over): the application holds this guard, as any other.
     */
    void goesOutInstead() {
        UnwrappedConnections.unregister(delegate, this);
        unwrapped.removeIf(known -> known == delegate); // identity: a driver's class may define equals
        if (unwrapped.isEmpty()) {
            unwrapped = null;
            engine.driverObjectsTakenBack();
        }
    }

    private boolean isUnwrapped(java.sql.Connection driverConnection) {
        for (java.sql.Connection known : unwrapped) {
            if (known == driverConnection) return true;
        }
        return false;
    }

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        try {
            // The engine's events directly, not through Engine.setAutoCommit: one frame fewer for its stack walk.
            if (autoCommit) engine.restore(); else engine.begin(Engine.API, null, Sql.BEGIN);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        engine.isolationChange(level);
        delegate.setTransactionIsolation(level);
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        return engine.getAutoCommit();
    }

    @Override
    public void commit() throws SQLException {
        try {
            engine.commit(Engine.API);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public void rollback() throws SQLException {
        try {
            engine.rollback(Engine.API);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public void rollback(Savepoint savepoint) throws SQLException {
        try {
            engine.rollback(savepoint);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        try {
            return engine.setSavepoint(null);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public Savepoint setSavepoint(String name) throws SQLException {
        try {
            return engine.setSavepoint(name);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        try {
            engine.releaseSavepoint(savepoint);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public void clearWarnings() throws SQLException {
        engine.maybeReturningToPool(false);
        delegate.clearWarnings();
    }

    @Override
    public void endRequest() throws SQLException {
        engine.maybeReturningToPool(true);
        delegate.endRequest();
    }

    @Override
    public void close() throws SQLException {
        try {
            engine.close();
        } finally {
            if (unwrapped != null) {
                for (java.sql.Connection driverConnection : unwrapped) UnwrappedConnections.unregister(driverConnection, this);
            }
        }
    }

    @Override
    public Statement createStatement() throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return new TxStatement(this, delegate.createStatement());
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency) throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return new TxStatement(this, delegate.createStatement(resultSetType, resultSetConcurrency));
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency, int resultSetHoldability)
            throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return new TxStatement(this, delegate.createStatement(resultSetType, resultSetConcurrency, resultSetHoldability));
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return prepared(delegate.prepareStatement(sql), sql);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return prepared(delegate.prepareStatement(sql, autoGeneratedKeys), sql);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return prepared(delegate.prepareStatement(sql, columnIndexes), sql);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return prepared(delegate.prepareStatement(sql, columnNames), sql);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency)
            throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return prepared(delegate.prepareStatement(sql, resultSetType, resultSetConcurrency), sql);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency,
                                              int resultSetHoldability) throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return prepared(delegate.prepareStatement(sql, resultSetType, resultSetConcurrency, resultSetHoldability), sql);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return callable(delegate.prepareCall(sql), sql);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency) throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return callable(delegate.prepareCall(sql, resultSetType, resultSetConcurrency), sql);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency,
                                         int resultSetHoldability) throws SQLException {
        engine.checkPartOfAnOpenTest();
        try {
            return callable(delegate.prepareCall(sql, resultSetType, resultSetConcurrency, resultSetHoldability), sql);
        } catch (SQLException e) {
            throw engine.callFailed(e);
        }
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        return new TxMetaData(this, delegate.getMetaData());
    }

    /** The SQL is classified here, once, so that executing it costs no parsing. */
    private PreparedStatement prepared(PreparedStatement statement, String sql) {
        return new TxPreparedStatement(this, statement, Sql.classify(sql, engine.dialect), sql);
    }

    private CallableStatement callable(CallableStatement statement, String sql) {
        return new TxCallableStatement(this, statement, Sql.classify(sql, engine.dialect), sql);
    }
}
