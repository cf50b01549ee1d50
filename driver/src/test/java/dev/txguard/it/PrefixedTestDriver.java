package dev.txguard.it;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.util.Properties;
import java.util.logging.Logger;

/** A test driver for URLs of its own, {@code jdbc:<name>:...}, over a real database. */
abstract class PrefixedTestDriver implements Driver {

    private final String prefix;

    PrefixedTestDriver(String name) {
        this.prefix = "jdbc:" + name + ":";
    }

    /** The connection for a URL of this driver's, given what follows its prefix. */
    abstract Connection open(String rest, Properties info) throws SQLException;

    @Override
    public final Connection connect(String url, Properties info) throws SQLException {
        return acceptsURL(url) ? open(url.substring(prefix.length()), info) : null;
    }

    @Override
    public final boolean acceptsURL(String url) {
        return url != null && url.startsWith(prefix);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        return new DriverPropertyInfo[0];
    }

    @Override
    public int getMajorVersion() {
        return 1;
    }

    @Override
    public int getMinorVersion() {
        return 0;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getLogger("test");
    }
}
