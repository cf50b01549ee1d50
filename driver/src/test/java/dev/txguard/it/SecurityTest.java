package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** No secret leaks into what txguard says, and no setting makes txguard load a class. */
class SecurityTest {

    private static final String SECRET = "s3cr3t-Pa55";

    /** Everything txguard logs, at every level, and every message of every error it raises. */
    @Test
    void noPasswordOrUrlCredentialInAnyLogLineOrError() throws Exception {
        Logger txguard = Logger.getLogger("dev.txguard");
        Level before = txguard.getLevel();
        txguard.setLevel(Level.ALL);
        List<String> said = new ArrayList<>();
        try (LogCapture log = LogCapture.start()) {
            // Errors about URLs that carry credentials, in the user part and in the parameters
            for (String url : new String[] {
                    "jdbc:txguard:nosuchdb://scott:" + SECRET + "@db.example/app",
                    "jdbc:txguard:nosuchdb://db.example/app?user=scott&password=" + SECRET,
                    "jdbc:txguard:nosuchdb:thin:scott/" + SECRET + "@db.example:1521;password=" + SECRET,
                    "jdbc:txguard:txguard:postgresql://scott:" + SECRET + "@db.example/app",
                    "jdbc:txguard:jdbc:postgresql://db.example/app?password=" + SECRET}) {
                said.add(assertThrows(SQLException.class, () -> DriverManager.getConnection(url).close()).getMessage());
            }
            // A password given as a property, through everything that logs: observe mode, a stray rollback,
            // a durable refusal, a connection returned to its pool with work open
            String url = "jdbc:txguard:postgresql://127.0.0.1:5432/test?user=postgres&password=" + SECRET;
            Database.POSTGRESQL.requireAvailable();
            Properties p = new Properties();
            p.setProperty("password", SECRET);
            p.setProperty("txguard.durable", DurableTest.DURABLE);
            try (TestDb db = TestDb.open(Database.POSTGRESQL); Connection c = DriverManager.getConnection(url, p)) {
                Legacy.Dao dao = new Legacy.Dao(db.table);
                c.setAutoCommit(false);
                db.insert(c, 1);
                said.add(assertThrows(SQLException.class, () -> dao.saveWithStrayRollback(c, 2, 3)).getMessage());
                said.add(assertThrows(SQLException.class, () -> new DurableTest.Payments(db).sendToBank(c)).getMessage());
                c.rollback();
                c.setAutoCommit(true);

                HikariConfig config = new HikariConfig();
                config.setJdbcUrl(url);
                config.setPassword(SECRET);
                config.setMaximumPoolSize(1);
                try (HikariDataSource pool = new HikariDataSource(config); Connection pooled = pool.getConnection()) {
                    pooled.setAutoCommit(false);
                    db.insert(pooled, 4); // abandoned: returned to the pool with work open
                }
            }
            said.addAll(log.messages);
        } finally {
            txguard.setLevel(before);
        }
        assertTrue(said.size() > 8, "enough was said to make the check mean something: " + said);
        for (String message : said) {
            assertFalse(message.contains(SECRET), "a secret leaked: " + message);
            assertFalse(message.contains("scott"), "a user name from a URL leaked: " + message);
        }
    }

    /** A class that records, elsewhere, whether anything ever initialised it. */
    static final class Canary {
        static {
            CanaryFlag.initialised = true;
        }

        static void sing() {}
    }

    /** Read without touching Canary, so that reading it cannot initialise Canary. */
    static final class CanaryFlag {
        static volatile boolean initialised;
    }

    @Test
    void noSettingMakesTxguardLoadOrInstantiateAClass() throws Exception {
        String canary = Canary.class.getName();
        Properties p = new Properties();
        p.setProperty("txguard.helpers", canary);
        p.setProperty("txguard.durable", canary + "#sing," + canary + "#*");
        try (Connection c = DriverManager.getConnection("jdbc:txguard:h2:mem:canary;INIT=CREATE TABLE t(id INT)", p)) {
            Legacy.Dao dao = new Legacy.Dao("t");
            c.setAutoCommit(false);
            dao.saveClassic(c, 1);
            c.rollback();
            c.setAutoCommit(true);
        }
        assertFalse(CanaryFlag.initialised, "a setting made txguard load and initialise a class");
    }
}
