package dev.txguard.samples.bank;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.TxGuardDataSource;
import dev.txguard.junit.TxGuardTest;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The legacy bank's own test suite, as a team would write it with txguard: each test runs in a transaction that is
 * rolled back, so the transfers it makes (which commit, as far as the bank can tell) leave nothing for the next test,
 * and no table is truncated or recreated between tests. The bank's code is unchanged; its data source has a
 * {@code jdbc:txguard:} URL, as in production.
 */
@TxGuardTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LegacyBankSuiteTest {

    private static final String DATABASE = "h2:mem:bank-suite;DB_CLOSE_DELAY=-1";
    private static TxGuardDataSource dataSource;
    private static LegacyBank bank;

    @BeforeAll
    static void openTheBank() throws SQLException {
        System.setProperty("txguard.durable", "dev.txguard.samples.bank.Payments#sendWire");
        // The schema is created once, through a connection txguard does not guard: H2 commits DDL implicitly,
        // which a test transaction refuses.
        JdbcDataSource plain = new JdbcDataSource();
        plain.setURL("jdbc:" + DATABASE);
        new LegacyBank(plain).open();
        dataSource = new TxGuardDataSource();
        dataSource.setUrl("jdbc:txguard:" + DATABASE);
        bank = new LegacyBank(dataSource);
    }

    @Test
    @Order(1)
    void aTransferMovesTheMoney() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            new TransferService().transfer(c, "alice", "bob", 2500, false); // begins and commits on its own
        }
        assertEquals(7500, bank.balance("alice"));
        assertEquals(12500, bank.balance("bob"));
        assertTrue(bank.books().contains("  audit lines: 1"), String.join("\n", bank.books()));
    }

    @Test
    @Order(2)
    void theNextTestFindsTheBooksAsTheyWere() throws SQLException {
        assertEquals(10000, bank.balance("alice"));
        assertEquals(10000, bank.balance("bob"));
        assertTrue(bank.books().contains("  audit lines: 0"), String.join("\n", bank.books()));
    }

    @Test
    @Order(3)
    void aTransferWhoseAuditFails_leavesTheBooksAsTheyWere() throws SQLException {
        assertTrue(bank.transferWithFailingAudit().startsWith("transfer failed"));
        assertEquals(10000, bank.balance("alice"));
    }

    @Test
    @Order(4)
    void aWireSentOnItsOwn_isTheOutermostTransaction_asDurabilityRequires() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            new Payments().sendWire(c, "alice", 500);
        }
        assertTrue(bank.books().contains("  wires recorded: 1"), String.join("\n", bank.books()));
    }

    @Test
    @Order(5)
    void aWireSentInsideTheCheckout_failsAsInProduction() throws SQLException {
        String checkout = bank.wireInsideCheckout();
        assertTrue(checkout.contains("durable method dev.txguard.samples.bank.Payments.sendWire"), checkout);
        assertTrue(bank.books().contains("  wires recorded: 0"), String.join("\n", bank.books()));
    }

    @AfterAll
    static void nothingWasLeftBehind() throws SQLException {
        JdbcDataSource plain = new JdbcDataSource();
        plain.setURL("jdbc:" + DATABASE);
        List<String> books = new LegacyBank(plain).books();
        assertTrue(books.contains("  wires recorded: 0") && books.contains("  audit lines: 0"), String.join("\n", books));
    }
}
