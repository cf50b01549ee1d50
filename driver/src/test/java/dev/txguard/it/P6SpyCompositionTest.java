package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * txguard composes with other prefixes: {@code jdbc:txguard:p6spy:h2:...} puts P6Spy between txguard
 * and H2, so P6Spy's log shows what the database really received, savepoints included.
 * (P6Spy is configured by src/test/resources/spy.properties to log into target/p6spy.log.)
 */
class P6SpyCompositionTest {

    @Test
    void p6spyBelowTxguard_logsTheSavepointsTheDatabaseReceived() throws Exception {
        Path log = Path.of("target", "p6spy.log");
        Files.deleteIfExists(log);
        String url = "jdbc:txguard:p6spy:h2:mem:p6spy;DB_CLOSE_DELAY=-1";
        try (Connection c = DriverManager.getConnection(url)) {
            Legacy.sql(c, "CREATE TABLE spied (id INT PRIMARY KEY)");
            Legacy.Dao dao = new Legacy.Dao("spied");
            c.setAutoCommit(false);
            Legacy.insert(c, "spied", 1);
            dao.saveClassic(c, 2);
            dao.saveThenUndo(c, 3);
            c.commit();
            c.setAutoCommit(true);
        }
        String text = Files.readAllLines(log).stream().collect(Collectors.joining("\n"));
        // Both DAO scopes sit at the same place under the service's transaction: the same savepoint name, reused.
        assertEquals(2, statementsSent(text, "SAVEPOINT txguard_1"), text);
        // H2 is sent no RELEASE, as its own driver sends none: the second SAVEPOINT replaces the first.
        assertEquals(0, statementsSent(text, "RELEASE SAVEPOINT txguard_1"), text);
        assertEquals(1, statementsSent(text, "ROLLBACK TO SAVEPOINT txguard_1"), text);
    }

    /** Log lines whose last field, the SQL as sent, is this statement. */
    private static long statementsSent(String log, String sql) {
        return log.lines().filter(line -> line.endsWith("|" + sql)).count();
    }
}
