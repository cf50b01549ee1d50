package dev.txguard;

import dev.txguard.internal.Guard;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@link DataSource} whose connections are guarded by txguard.
 *
 * <p>Two forms: {@code new TxGuardDataSource(existingDataSource)} guards every connection the
 * existing data source hands out (a pool, a vendor data source); the JavaBean form, for pools and
 * containers that only take a class name and properties, connects a URL through the txguard driver:
 * {@code dataSourceClassName=dev.txguard.TxGuardDataSource} with the properties {@code url}
 * ({@code jdbc:txguard:...}, or a plain {@code jdbc:...} URL, which gets the prefix),
 * {@code user} and {@code password}.
 */
public class TxGuardDataSource implements DataSource {

    private final DataSource delegate;
    private String url;
    private String user;
    private String password;
    private int loginTimeout;
    private PrintWriter logWriter;

    /** The JavaBean form: set {@code url} (and {@code user}, {@code password}) before use. */
    public TxGuardDataSource() {
        this.delegate = null;
    }

    public TxGuardDataSource(DataSource delegate) {
        if (delegate == null) throw new IllegalArgumentException("txguard: the DataSource to guard is null");
        this.delegate = delegate;
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (delegate != null) return Guard.connectThrough(delegate, null, null);
        return connect(user, password);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        if (delegate != null) return Guard.connectThrough(delegate, username, password);
        return connect(username, password);
    }

    private Connection connect(String username, String pass) throws SQLException {
        if (url == null) {
            throw new SQLException("txguard: TxGuardDataSource has no url; set it to jdbc:txguard:<real URL without"
                    + " jdbc:>, or construct it around an existing DataSource", "25000");
        }
        Properties info = new Properties();
        if (username != null) info.setProperty("user", username);
        if (pass != null) info.setProperty("password", pass);
        return Guard.connect(url, info);
    }

    public String getUrl() {
        return url;
    }

    /** {@code jdbc:txguard:...}, or a plain {@code jdbc:...} URL, which is guarded the same way. */
    public void setUrl(String url) {
        if (url != null && url.startsWith("jdbc:") && !Guard.acceptsUrl(url)) {
            url = "jdbc:txguard:" + url.substring(5);
        }
        this.url = url;
    }

    public String getUser() {
        return user;
    }

    public void setUser(String user) {
        this.user = user;
    }

    /** HikariCP and others also call the property {@code username}. */
    public void setUsername(String user) {
        this.user = user;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return delegate != null ? delegate.getLogWriter() : logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        if (delegate != null) delegate.setLogWriter(out); else logWriter = out;
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        if (delegate != null) delegate.setLoginTimeout(seconds); else loginTimeout = seconds;
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return delegate != null ? delegate.getLoginTimeout() : loginTimeout;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return Logger.getLogger("dev.txguard");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) return iface.cast(this);
        if (delegate != null) return delegate.unwrap(iface);
        throw new SQLException("txguard: TxGuardDataSource wraps no " + iface.getName(), "25000");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || (delegate != null && delegate.isWrapperFor(iface));
    }
}
