package dev.txguard.it.plugin;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Legacy data access in a plugin: loaded, with its database's driver, by a class loader of its own that does
 * not see the application's class path. It knows nothing but JDBC; IsolatedLoadersUnderAgent calls it
 * reflectively.
 */
public final class IsolatedPlugin {

    private IsolatedPlugin() {}

    /** A connection from the driver this plugin's loader loaded, as a plugin host hands one out. */
    public static Connection open(String driverClass, String url) throws Exception {
        ClassLoader own = IsolatedPlugin.class.getClassLoader();
        Driver driver = (Driver) Class.forName(driverClass, true, own).getDeclaredConstructor().newInstance();
        return driver.connect(url, new Properties());
    }

    public static void createTable(Connection c, String table) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY)");
        }
    }

    /** A service whose transaction holds a DAO's, and which then fails and rolls back. */
    public static void serviceThatRollsBackAfterANestedDao(Connection c, String table) throws SQLException {
        c.setAutoCommit(false);
        try {
            insert(c, table, 1);
            dao(c, table, 2);
            throw new SQLException("the service fails after its DAO committed");
        } catch (SQLException e) {
            c.rollback();
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void dao(Connection c, String table, int id) throws SQLException {
        c.setAutoCommit(false);
        try {
            insert(c, table, id);
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void insert(Connection c, String table, int id) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO " + table + " VALUES (" + id + ")");
        }
    }

    public static Set<Integer> committed(Connection observer, String table) throws SQLException {
        Set<Integer> ids = new TreeSet<>();
        try (Statement s = observer.createStatement(); ResultSet rows = s.executeQuery("SELECT id FROM " + table)) {
            while (rows.next()) ids.add(rows.getInt(1));
        }
        return ids;
    }
}
