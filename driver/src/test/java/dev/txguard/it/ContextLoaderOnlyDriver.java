package dev.txguard.it;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * A driver that DriverManager never lists: it is not registered and has no service entry on the
 * class path, only in a folder a test puts behind the context class loader (like a webapp's
 * driver under an app server's own). {@code jdbc:contextonly:mem:x} is H2's {@code jdbc:h2:mem:x}.
 */
public final class ContextLoaderOnlyDriver implements Driver {

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) return null;
        return DriverManager.getConnection("jdbc:h2:" + url.substring("jdbc:contextonly:".length()), info);
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && url.startsWith("jdbc:contextonly:");
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
