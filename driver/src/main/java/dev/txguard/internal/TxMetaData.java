package dev.txguard.internal;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;

/** Database metadata whose connection, and whose results' statements, are the guarded ones. */
final class TxMetaData extends MetaDataBase {

    private final TxConnection connection;

    TxMetaData(TxConnection connection, DatabaseMetaData delegate) {
        super(delegate);
        this.connection = connection;
    }

    @Override
    ResultSet wrapResultSet(ResultSet resultSet) {
        return resultSet == null ? null : new TxResultSet(resultSet, null, connection);
    }

    @Override
    Connection guardedConnection() {
        return connection;
    }

    @Override
    <T> T unwrapped(T driverObject) throws java.sql.SQLException {
        return connection.handedOut(driverObject);
    }
}
