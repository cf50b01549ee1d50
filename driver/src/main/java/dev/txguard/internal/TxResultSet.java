package dev.txguard.internal;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A result set that leads back only to guarded objects, and whose writes (an updatable result set's
 * {@code updateRow}, {@code insertRow}, {@code deleteRow}) and re-reads ({@code refreshRow}) are
 * statements of the scope they run in, like any other: a nested scope's savepoint comes before them,
 * and a rollback-only scope refuses them.
 */
final class TxResultSet extends ResultSetBase {

    /** The guarded statement that produced it; null for database metadata results. */
    private final Statement statement;
    private final TxConnection connection;

    TxResultSet(ResultSet delegate, Statement statement, TxConnection connection) {
        super(delegate);
        this.statement = statement;
        this.connection = connection;
    }

    @Override
    public void updateRow() throws SQLException {
        connection.engine.beforeStatement();
        sent(delegate::updateRow);
    }

    @Override
    public void insertRow() throws SQLException {
        connection.engine.beforeStatement();
        sent(delegate::insertRow);
    }

    @Override
    public void deleteRow() throws SQLException {
        connection.engine.beforeStatement();
        sent(delegate::deleteRow);
    }

    @Override
    public void refreshRow() throws SQLException {
        connection.engine.beforeStatement();
        sent(delegate::refreshRow);
    }

    private interface RowStatement {
        void send() throws SQLException;
    }

    /** Sends what beforeStatement let through, and tells the engine how it went. */
    private void sent(RowStatement statement) throws SQLException {
        try {
            statement.send();
            connection.engine.statementSucceeded();
        } catch (SQLException e) {
            throw connection.engine.statementFailed(e);
        }
    }

    @Override
    Statement guardedStatement(Statement raw) {
        if (statement != null || raw == null) return statement;
        return new TxStatement(connection, raw);
    }

    @Override
    <T> T unwrapped(T driverObject) throws java.sql.SQLException {
        return connection.handedOut(driverObject);
    }
}
