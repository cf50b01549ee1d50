package dev.txguard.samples.bank;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * A DAO written the way thousands are: each method is "its own transaction". Called on its own it is
 * fine; called from a service that has a transaction open, its commit commits the service's work too.
 */
final class AccountDao {

    void debit(Connection c, String account, long cents) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE account SET balance = balance - ? WHERE id = ? AND balance >= ?")) {
            ps.setLong(1, cents);
            ps.setString(2, account);
            ps.setLong(3, cents);
            if (ps.executeUpdate() != 1) throw new SQLException("insufficient funds in " + account);
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    void credit(Connection c, String account, long cents) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("UPDATE account SET balance = balance + ? WHERE id = ?")) {
            ps.setLong(1, cents);
            ps.setString(2, account);
            ps.executeUpdate();
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }
}
