package dev.txguard.samples;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.logging.Logger;
import javax.sql.ConnectionPoolDataSource;
import javax.sql.DataSource;

/**
 * Connections as an application server's pool hands them out: a logical handle from
 * {@code ConnectionPoolDataSource.getPooledConnection().getConnection()}. (No pooling here: each
 * handle gets a physical connection of its own, which the sample never reuses.)
 */
final class PooledConnectionDataSource implements DataSource {

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

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getLogger("samples");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return false;
    }
}
