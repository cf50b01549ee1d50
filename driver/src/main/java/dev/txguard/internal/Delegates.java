package dev.txguard.internal;

import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Enumeration;
import java.util.Iterator;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/** From a {@code jdbc:txguard:} URL to the real URL and the driver that accepts it. */
final class Delegates {

    static final String PREFIX = "jdbc:txguard:";
    private static final String EXAMPLE = "jdbc:txguard:postgresql://db/app or jdbc:txguard:h2:mem:test";

    private Delegates() {}

    /** Strips the prefix exactly once, refusing URLs that cannot name a real database. */
    static String realUrl(String url) throws SQLException {
        String rest = url.substring(PREFIX.length());
        if (rest.isBlank()) {
            throw Errors.config("the URL '" + url + "' names no database after " + PREFIX + "; write the real"
                    + " URL without its 'jdbc:' after the prefix, as in " + EXAMPLE);
        }
        if (rest.startsWith("txguard:")) {
            throw Errors.config("the URL '" + redact(url) + "' has the " + PREFIX + " prefix twice; write it once, as in "
                    + EXAMPLE);
        }
        if (rest.startsWith("jdbc:")) {
            throw Errors.config("the URL '" + redact(url) + "' repeats 'jdbc:' after " + PREFIX + "; write "
                    + redact(PREFIX + rest.substring(5)));
        }
        return "jdbc:" + rest;
    }

    /**
     * The registered driver that accepts the URL. DriverManager only lists drivers visible to
     * txguard's class loader, so the context class loader's drivers are asked too.
     */
    static Driver driverFor(String realUrl, String originalUrl) throws SQLException {
        for (Enumeration<Driver> e = DriverManager.getDrivers(); e.hasMoreElements(); ) {
            Driver d = e.nextElement();
            if (accepts(d, realUrl)) return d;
        }
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (context != null) {
            Iterator<Driver> it = ServiceLoader.load(Driver.class, context).iterator();
            while (true) {
                try {
                    if (!it.hasNext()) break;
                    Driver d = it.next();
                    if (accepts(d, realUrl)) return d;
                } catch (ServiceConfigurationError badProvider) {
                    // a broken META-INF/services entry of some other jar: skip it, keep looking
                }
            }
        }
        throw Errors.config("no JDBC driver on the class path accepts '" + redact(realUrl) + "' (from '"
                + redact(originalUrl) + "'); add the database's driver jar, or fix the URL after " + PREFIX);
    }

    private static boolean accepts(Driver d, String url) {
        // By name: a copy of txguard's driver loaded by another class loader must be skipped too.
        if (d.getClass().getName().equals("dev.txguard.TxGuardDriver")) return false;
        try {
            return d.acceptsURL(url);
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }

    /**
     * A URL fit for a message: no parameters (they may hold a password), and nothing between the
     * sub-protocol and an '@', where URLs carry credentials ({@code //user:password@host},
     * Oracle's {@code thin:user/password@host}).
     */
    static String redact(String url) {
        if (url.startsWith(PREFIX)) return PREFIX + redact("jdbc:" + url.substring(PREFIX.length())).substring(5);
        String u = url;
        int cut = indexOfAny(u, '?', ';', '&');
        if (cut >= 0) u = u.substring(0, cut) + "?…";
        int at = u.lastIndexOf('@');
        int subprotocolEnd = u.indexOf(':', "jdbc:".length());
        if (at >= 0 && subprotocolEnd >= 0 && subprotocolEnd < at) {
            u = u.substring(0, subprotocolEnd + 1) + "…" + u.substring(at);
        }
        return u;
    }

    private static int indexOfAny(String s, char... chars) {
        int best = -1;
        for (char c : chars) {
            int i = s.indexOf(c);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }
}
