package dev.txguard.springboot;

import java.sql.Connection;
import java.sql.SQLException;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A Spring Boot application as teams have them: a controller, {@code @Transactional} services with REQUIRED,
 * REQUIRES_NEW and NESTED propagation, JdbcTemplate, and a legacy DAO that begins and commits on its own, called on
 * the transaction's connection. Its pool is Spring Boot's HikariCP, over the URL in {@code spring.datasource.url}.
 */
@SpringBootApplication
public class Shop {

    /** The table the application writes, named by the test that runs it. */
    static volatile String table;

    @RestController
    static class Orders {
        private final OrderService orders;

        Orders(OrderService orders) {
            this.orders = orders;
        }

        @PostMapping("/orders/{id}")
        String place(@PathVariable("id") int id) throws SQLException {
            orders.place(id);
            return "placed " + id;
        }
    }

    @Service
    static class OrderService {
        private final JdbcTemplate jdbc;
        private final Audit audit;

        OrderService(JdbcTemplate jdbc, Audit audit) {
            this.jdbc = jdbc;
            this.audit = audit;
        }

        @Transactional
        public void place(int id) throws SQLException {
            jdbc.update("INSERT INTO " + table + " (id) VALUES (?)", id);
            audit.log(id + 1000);
            try {
                audit.note(id + 3000, true); // a step that fails and rolls back alone
            } catch (IllegalStateException refused) {
                // the note is optional
            }
            LegacyDao.save(DataSourceUtils.getConnection(jdbc.getDataSource()), id + 2000);
        }
    }

    @Service
    static class Audit {
        private final JdbcTemplate jdbc;

        Audit(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional(propagation = Propagation.REQUIRES_NEW)
        public void log(int id) {
            jdbc.update("INSERT INTO " + table + " (id) VALUES (?)", id);
        }

        /** NESTED: a savepoint in the caller's transaction; its failure is the caller's to swallow. */
        @Transactional(propagation = Propagation.NESTED)
        public void note(int id, boolean fails) {
            jdbc.update("INSERT INTO " + table + " (id) VALUES (?)", id);
            if (fails) throw new IllegalStateException("note refused");
        }
    }

    /** Legacy code: begins, commits and restores autocommit on whatever connection it is given. */
    static final class LegacyDao {
        static void save(Connection c, int id) throws SQLException {
            c.setAutoCommit(false);
            try (var p = c.prepareStatement("INSERT INTO " + table + " (id) VALUES (?)")) {
                p.setInt(1, id);
                p.executeUpdate();
                c.commit();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }
}
