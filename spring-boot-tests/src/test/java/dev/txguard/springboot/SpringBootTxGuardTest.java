package dev.txguard.springboot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.txguard.it.Database;
import dev.txguard.junit.TxGuardTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.annotation.Transactional;

/**
 * {@code @TxGuardTest} on a {@code @SpringBootTest}: the Shop application started on a random port, its orders placed
 * over HTTP (served on Tomcat's threads, whose connections join the test's transaction), through REQUIRED,
 * REQUIRES_NEW and NESTED transactions and a legacy DAO, and in Spring's own test-managed transaction as well. Run
 * through JUnit's engine on each database; what is left is read past txguard afterwards: nothing.
 */
class SpringBootTxGuardTest {

    /** The database the scenario's application uses, set by the test that runs it. */
    static volatile String guardedUrl;

    @SpringBootTest(classes = Shop.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
    @DirtiesContext
    @TxGuardTest
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class ShopScenario {

        @DynamicPropertySource
        static void database(DynamicPropertyRegistry registry) {
            registry.add("spring.datasource.url", () -> guardedUrl);
            // Spring Boot guesses the driver from the URL, and guesses the database's own for jdbc:txguard:h2:...
            registry.add("spring.datasource.driver-class-name", () -> "dev.txguard.TxGuardDriver");
        }

        @Autowired
        JdbcTemplate jdbc;
        @Autowired
        Environment environment;

        private String post(String path) throws Exception {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + environment.getProperty("local.server.port") + path))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            return response.body();
        }

        private Set<Integer> ids() {
            return new TreeSet<>(jdbc.queryForList("SELECT id FROM " + Shop.table, Integer.class));
        }

        @Test
        @Order(1)
        void anOrderPlacedOverHttp_isSeenByTheTest() throws Exception {
            assertEquals("placed 1", post("/orders/1"));
            assertEquals(Set.of(1, 1001, 2001), ids(), "the order, its audit (REQUIRES_NEW), its DAO's row; the"
                    + " failed NESTED note rolled back alone");
        }

        @Test
        @Order(2)
        void theNextTestSeesNothingOfIt() {
            assertEquals(Set.of(), ids());
        }

        @Test
        @Order(3)
        @Transactional
        void insideSpringsOwnTestTransaction() throws Exception {
            assertEquals("placed 2", post("/orders/2"));
            assertEquals(Set.of(2, 1002, 2002), ids());
        }
    }

    private static Set<Integer> left(Connection raw) throws SQLException {
        Set<Integer> ids = new TreeSet<>();
        try (Statement s = raw.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + Shop.table)) {
            while (rs.next()) ids.add(rs.getInt(1));
        }
        return ids;
    }

    private static String failures(EngineExecutionResults results) {
        return results.allEvents().failed().stream().map(event -> event.getTestDescriptor().getDisplayName() + ": "
                + event.getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable).orElse(null))
                .collect(Collectors.joining("\n"));
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void aSpringBootApplicationsWork_overHttpAndInItsServices_leavesNothingBehind(Database database) throws Exception {
        database.requireAvailable();
        String rawUrl = database.newRawUrl();
        guardedUrl = "jdbc:txguard:" + rawUrl.substring("jdbc:".length());
        Shop.table = "txg_shop_" + ProcessHandle.current().pid() + "_" + database.ordinal();
        try (Connection raw = DriverManager.getConnection(rawUrl)) {
            try (Statement s = raw.createStatement()) {
                s.execute("CREATE TABLE " + Shop.table + " (id INT PRIMARY KEY)");
            }
            try {
                EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
                        .selectors(selectClass(ShopScenario.class)).execute();
                assertEquals("", failures(results));
                results.testEvents().assertStatistics(s -> s.started(3).succeeded(3));
                assertEquals(Set.of(), left(raw));
            } finally {
                try (Statement s = raw.createStatement()) {
                    s.execute("DROP TABLE " + Shop.table);
                }
            }
        }
    }

}
