package dev.txguard.samples.bank;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Legacy code written against the database vendor's own connection class (for a vendor API such as a bulk
 * loader): it unwraps the connection it is given and runs "its own transaction" on the driver's object, out
 * of reach of any JDBC wrapper above it. Called inside a caller's transaction, its commit commits the
 * caller's work too.
 */
final class VendorFeeDao {

    void charge(Connection c, String account, long cents) throws SQLException {
        Connection driverConnection = c.unwrap(driverConnectionClass(c));
        driverConnection.setAutoCommit(false);
        try (PreparedStatement ps = driverConnection.prepareStatement(
                "UPDATE account SET balance = balance - ? WHERE id = ?")) {
            ps.setLong(1, cents);
            ps.setString(2, account);
            ps.executeUpdate();
            driverConnection.commit();
        } finally {
            driverConnection.setAutoCommit(true);
        }
    }

    private static Class<? extends Connection> driverConnectionClass(Connection c) throws SQLException {
        String product = c.getMetaData().getDatabaseProductName();
        switch (product) {
            case "H2":
                return org.h2.jdbc.JdbcConnection.class;
            case "PostgreSQL":
                return org.postgresql.jdbc.PgConnection.class;
            case "MariaDB":
            case "MySQL":
                return org.mariadb.jdbc.Connection.class;
            default:
                throw new SQLException("no driver connection class known for " + product
                        + "; known: H2, PostgreSQL, MariaDB");
        }
    }
}
