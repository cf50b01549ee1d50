package dev.txguard.samples.bank;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Records an outgoing wire and must commit it for real before the other bank is called: if it ran
 * inside someone else's transaction, a later rollback would forget a wire that already left.
 * The demo declares it durable: -Dtxguard.durable=dev.txguard.samples.bank.Payments#sendWire
 */
final class Payments {

    void sendWire(Connection c, String account, long cents) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO wire (account, cents) VALUES (?, ?)")) {
            ps.setString(1, account);
            ps.setLong(2, cents);
            ps.executeUpdate();
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
        // ... here the real code calls the other bank's API
    }

    /** Queues a wire for the nightly run, and forgets to commit: a bug that loses the wire on close. */
    void queueWire(Connection c, String account, long cents) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO wire (account, cents) VALUES (?, ?)")) {
            ps.setString(1, account);
            ps.setLong(2, cents);
            ps.executeUpdate();
        }
    }
}
