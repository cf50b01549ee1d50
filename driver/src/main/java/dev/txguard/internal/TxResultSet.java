package dev.txguard.internal;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** A result set that leads back only to guarded objects. */
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
    Statement guardedStatement(Statement raw) {
        if (statement != null || raw == null) return statement;
        return new TxStatement(connection, raw);
    }

    @Override
    <T> T unwrapped(T driverObject) throws java.sql.SQLException {
        return connection.handedOut(driverObject);
    }
}
