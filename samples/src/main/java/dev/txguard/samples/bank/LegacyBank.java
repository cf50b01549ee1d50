package dev.txguard.samples.bank;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * A legacy bank application with no txguard code in it: the only thing that changes between the
 * demo's two runs is its JDBC URL, and under the agent nothing changes at all.
 */
public final class LegacyBank {

    private final DataSource dataSource;

    public LegacyBank(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Creates the tables afresh (they may be left from an earlier run on a server). */
    public void open() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            for (String table : new String[] {"account", "audit", "wire"}) {
                s.execute("DROP TABLE IF EXISTS " + table);
            }
            s.execute("CREATE TABLE account (id VARCHAR(10) PRIMARY KEY, balance BIGINT NOT NULL)");
            s.execute("CREATE TABLE audit (line VARCHAR(100))");
            s.execute("CREATE TABLE wire (account VARCHAR(10), cents BIGINT)");
            s.execute("INSERT INTO account VALUES ('alice', 10000), ('bob', 10000)");
        }
    }

    /** A transfer whose audit step fails after the money moved: the service rolls back. */
    public String transferWithFailingAudit() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            new TransferService().transfer(c, "alice", "bob", 2500, true);
            return "transfer completed";
        } catch (SQLException | RuntimeException e) {
            return "transfer failed and was rolled back: " + e.getMessage();
        }
    }

    /** A checkout that (wrongly) sends a wire inside its own transaction, then fails. */
    public String wireInsideCheckout() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                new AccountDao().debit(c, "bob", 1000);
                new Payments().sendWire(c, "bob", 1000);
                throw new IllegalStateException("stock ran out after the wire was sent");
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                return "checkout failed: " + e.getMessage();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** A refund whose fee is charged by code that unwraps to the driver's own connection; then the refund is cancelled. */
    public String refundWithFeeThroughTheDriver() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                new AccountDao().credit(c, "alice", 300);
                new VendorFeeDao().charge(c, "alice", 25);
                throw new IllegalStateException("the refund was cancelled");
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                return "refund failed and was rolled back: " + e.getMessage();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** A wire queued by code that forgets to commit it. */
    public String queueWireForLater() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            new Payments().queueWire(c, "alice", 500);
            return "wire queued";
        } catch (SQLException e) {
            return "wire refused: " + e.getMessage();
        }
    }

    /** A balance in cents, as another connection sees it. */
    public long balance(String account) throws SQLException {
        try (Connection c = dataSource.getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT balance FROM account WHERE id = '" + account + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The class of the connections the application is given. */
    public String connectionClass() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return c.getClass().getName();
        }
    }

    /** What another connection sees. */
    public List<String> books() throws SQLException {
        List<String> lines = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            long total = 0;
            try (ResultSet rs = s.executeQuery("SELECT id, balance FROM account ORDER BY id")) {
                while (rs.next()) {
                    lines.add(String.format("  %-6s %8.2f", rs.getString(1), rs.getLong(2) / 100.0));
                    total += rs.getLong(2);
                }
            }
            lines.add(String.format("  %-6s %8.2f%s", "total", total / 100.0, total == 20000 ? "" : "   <- money appeared or vanished"));
            try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM audit")) {
                rs.next();
                lines.add("  audit lines: " + rs.getInt(1));
            }
            try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM wire")) {
                rs.next();
                lines.add("  wires recorded: " + rs.getInt(1));
            }
        }
        return lines;
    }
}
