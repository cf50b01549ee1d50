package dev.txguard.samples.bank;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** The service: one transaction around a transfer, which it believes is all or nothing. */
final class TransferService {

    private final AccountDao accounts = new AccountDao();

    void transfer(Connection c, String from, String to, long cents, boolean auditFails) throws SQLException {
        c.setAutoCommit(false);
        try {
            accounts.debit(c, from, cents);
            accounts.credit(c, to, cents);
            audit(c, from, to, cents, auditFails);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private void audit(Connection c, String from, String to, long cents, boolean fails) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit (line) VALUES (?)")) {
            ps.setString(1, from + " -> " + to + ": " + cents);
            ps.executeUpdate();
        }
        if (fails) throw new IllegalStateException("the audit service is down");
    }
}
