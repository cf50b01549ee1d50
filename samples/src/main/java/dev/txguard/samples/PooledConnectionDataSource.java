package dev.txguard.samples;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.ConnectionPoolDataSource;

/**
 * Connections as an application server's pool hands them out: a logical handle from
 * {@code ConnectionPoolDataSource.getPooledConnection().getConnection()}. (No pooling here: each
 * handle gets a physical connection of its own, which the sample never reuses.)
 */
final class PooledConnectionDataSource extends PlainDataSource {

    private final ConnectionPoolDataSource vendor;

    PooledConnectionDataSource(ConnectionPoolDataSource vendor) {
        this.vendor = vendor;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return vendor.getPooledConnection().getConnection();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        return vendor.getPooledConnection(user, password).getConnection();
    }
}
