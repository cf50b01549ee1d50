package dev.txguard.samples;

import dev.txguard.samples.bank.LegacyBank;
import java.sql.SQLException;

/**
 * Runs the same legacy bank twice on embedded H2: once with its plain JDBC URL, once with the
 * {@code jdbc:txguard:} prefix, and prints what another connection sees after each.
 */
public final class BankDemo {

    public static void main(String[] args) throws SQLException {
        if (System.getProperty("txguard.durable") == null) {
            System.setProperty("txguard.durable", "dev.txguard.samples.bank.Payments#sendWire");
        }
        run("WITHOUT txguard", "jdbc:h2:mem:plain;DB_CLOSE_DELAY=-1");
        run("WITH txguard", "jdbc:txguard:h2:mem:guarded;DB_CLOSE_DELAY=-1");
    }

    private static void run(String title, String url) throws SQLException {
        System.out.println();
        System.out.println("=== " + title + "  (" + url + ")");
        LegacyBank bank = new LegacyBank(new UrlDataSource(url));
        bank.open();
        System.out.println("1. transfer of 25.00 from alice to bob; the audit step fails afterwards");
        System.out.println("   -> " + bank.transferWithFailingAudit());
        bank.books().forEach(System.out::println);
        System.out.println(bank.balance("alice") == 10000
                ? "   OK: nothing of the rolled-back transfer is in the books"
                : "   !! the service rolled back, yet its DAOs had already committed the transfer");
        System.out.println("2. checkout debits bob 10.00, sends a wire inside its transaction, then fails");
        long bobBefore = bank.balance("bob");
        System.out.println("   -> " + bank.wireInsideCheckout());
        bank.books().forEach(System.out::println);
        System.out.println(bank.balance("bob") == bobBefore
                ? "   OK: the durable wire refused to run inside the checkout's transaction; nothing was kept"
                : "   !! the checkout failed, yet bob's debit and the wire stayed committed");
    }
}
