package dev.txguard.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.samples.bank.LegacyBank;
import org.junit.jupiter.api.Test;

/** The demo's claims, checked: the same app loses money without txguard and keeps its books with it. */
class LegacyBankTest {

    @Test
    void withoutTxguard_theRolledBackTransferIsInTheBooks() throws Exception {
        LegacyBank bank = new LegacyBank(new UrlDataSource("jdbc:h2:mem:sample-plain;DB_CLOSE_DELAY=-1"));
        bank.open();
        bank.transferWithFailingAudit();
        assertEquals(7500, bank.balance("alice"));
        long bob = bank.balance("bob");
        bank.wireInsideCheckout();
        assertEquals(bob - 1000, bank.balance("bob"), "the failed checkout's debit stayed committed");
    }

    @Test
    void withTxguard_failuresLeaveNothingBehind() throws Exception {
        System.setProperty("txguard.durable", "dev.txguard.samples.bank.Payments#sendWire");
        LegacyBank bank = new LegacyBank(new UrlDataSource("jdbc:txguard:h2:mem:sample-guarded;DB_CLOSE_DELAY=-1"));
        bank.open();
        assertTrue(bank.transferWithFailingAudit().startsWith("transfer failed"));
        assertEquals(10000, bank.balance("alice"));
        assertEquals(10000, bank.balance("bob"));
        String checkout = bank.wireInsideCheckout();
        assertTrue(checkout.contains("durable method dev.txguard.samples.bank.Payments.sendWire"), checkout);
        assertEquals(10000, bank.balance("bob"));
        assertTrue(bank.books().contains("  wires recorded: 0"), String.join("\n", bank.books()));
    }
}
