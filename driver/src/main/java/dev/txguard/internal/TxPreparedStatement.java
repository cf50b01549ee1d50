package dev.txguard.internal;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** A guarded prepared statement: its SQL was classified once, when it was prepared. */
class TxPreparedStatement extends PreparedStatementBase {

    private final int sqlKind;
    private final String sql;

    TxPreparedStatement(TxConnection connection, PreparedStatement prepared, int sqlKind, String sql) {
        super(connection, prepared);
        this.sqlKind = sqlKind;
        this.sql = sql;
    }

    private boolean consumed() throws SQLException {
        if (sqlKind != Sql.OTHER && engine.control(sqlKind, sql)) return true;
        engine.beforeStatement();
        return false;
    }

    @Override
    public boolean execute() throws SQLException {
        if (consumed()) return false;
        try {
            return succeeded(prepared.execute());
        } catch (SQLException e) {
            throw engine.statementFailed(e);
        }
    }

    @Override
    public int executeUpdate() throws SQLException {
        if (consumed()) return 0;
        try {
            return succeeded(prepared.executeUpdate());
        } catch (SQLException e) {
            throw engine.statementFailed(e);
        }
    }

    @Override
    public long executeLargeUpdate() throws SQLException {
        if (consumed()) return 0;
        try {
            return succeeded(prepared.executeLargeUpdate());
        } catch (SQLException e) {
            throw engine.statementFailed(e);
        }
    }

    @Override
    public ResultSet executeQuery() throws SQLException {
        if (sqlKind != Sql.OTHER) engine.refuseControl(sqlKind, sql, "executeQuery");
        engine.beforeStatement();
        try {
            ResultSet rs = prepared.executeQuery();
            engine.statementSucceeded();
            return wrapResultSet(rs);
        } catch (SQLException e) {
            throw engine.statementFailed(e);
        }
    }

    @Override
    public void addBatch() throws SQLException {
        if (sqlKind != Sql.OTHER) engine.refuseControl(sqlKind, sql, "a batch");
        prepared.addBatch();
    }
}
