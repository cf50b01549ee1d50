package dev.txguard.it;

import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.sql.Connection;
import java.sql.DriverManager;

/**
 * An application's test that mocks as suites do, with Mockito's inline mock maker (final classes, and a JDBC
 * connection), then opens a real connection: run by AgentIT in a JVM of its own, under the agent.
 */
public final class MockitoApp {

    public static class Service {
        public String greet() {
            return "real";
        }
    }

    public static final class FinalService {
        public String greet() {
            return "real";
        }
    }

    public static void main(String[] args) throws Exception {
        Service service = mock(Service.class);
        when(service.greet()).thenReturn("mocked");
        FinalService finalService = mock(FinalService.class);
        when(finalService.greet()).thenReturn("mocked");
        System.out.println("mocked: " + service.greet() + " " + finalService.greet());

        Connection mocked = mock(Connection.class);
        mocked.setAutoCommit(false);
        mocked.commit();
        verify(mocked).setAutoCommit(false);
        verify(mocked).commit();
        System.out.println("mocked connection: verified");

        try (Connection c = DriverManager.getConnection("jdbc:h2:mem:mockito")) {
            System.out.println("connection: " + c.getClass().getName());
        }
    }
}
