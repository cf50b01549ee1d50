package dev.txguard.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A driver that DriverManager never lists: it is not registered and has no service entry on the
 * class path, only in a folder a test puts behind the context class loader (like a webapp's
 * driver under an app server's own). {@code jdbc:contextonly:mem:x} is H2's {@code jdbc:h2:mem:x}.
 */
public final class ContextLoaderOnlyDriver extends PrefixedTestDriver {

    public ContextLoaderOnlyDriver() {
        super("contextonly");
    }

    @Override
    Connection open(String rest, Properties info) throws SQLException {
        return DriverManager.getConnection("jdbc:h2:" + rest, info);
    }
}
