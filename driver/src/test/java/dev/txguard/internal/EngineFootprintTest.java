package dev.txguard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** What the engine keeps per connection must not grow with the transactions it has seen. */
class EngineFootprintTest {

    @Test
    void applicationSavepointsAreForgottenWhenTheirTransactionEnds() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:txguard:h2:mem:footprint")) {
            Engine engine = c.unwrap(TxConnection.class).engine;
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t (id INT)");
            }
            for (int i = 0; i < 1000; i++) {
                c.setAutoCommit(false);
                c.setSavepoint();
                try (Statement s = c.createStatement()) {
                    s.execute("INSERT INTO t VALUES (" + i + ")");
                }
                if (i % 2 == 0) c.commit(); else c.rollback();
                c.setAutoCommit(true);
            }
            assertEquals(0, engine.trackedApplicationSavepoints());
        }
    }
}
