package dev.txguard;

import dev.txguard.internal.Guard;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * The txguard JDBC driver: {@code jdbc:txguard:} followed by any real URL without its
 * {@code jdbc:} ({@code jdbc:txguard:postgresql://db/app}, {@code jdbc:txguard:h2:mem:test},
 * {@code jdbc:txguard:p6spy:mariadb://db/app}). Registered with {@link DriverManager} when loaded,
 * and through {@code META-INF/services/java.sql.Driver}.
 */
public final class TxGuardDriver implements Driver {

    static {
        try {
            DriverManager.registerDriver(new TxGuardDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) return null; // JDBC: not ours, let the next driver try
        return Guard.connect(url, info);
    }

    @Override
    public boolean acceptsURL(String url) {
        return Guard.acceptsUrl(url);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) return new DriverPropertyInfo[0];
        return Guard.propertyInfo(url, info);
    }

    @Override
    public int getMajorVersion() {
        return 0;
    }

    @Override
    public int getMinorVersion() {
        return 1;
    }

    @Override
    public boolean jdbcCompliant() {
        return false; // compliance is the real driver's
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getLogger("dev.txguard");
    }
}
