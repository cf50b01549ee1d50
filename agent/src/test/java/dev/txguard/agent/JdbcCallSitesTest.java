package dev.txguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/** Which methods the agent instruments, read from real compiled bytecode. */
class JdbcCallSitesTest {

    @SuppressWarnings("unused")
    static final class Sample {
        void begins(Connection c) throws SQLException {
            c.setAutoCommit(false);
        }

        /** A write through an updatable result set is a statement. */
        void editsARow(java.sql.ResultSet rows) throws SQLException {
            rows.updateRow();
        }

        void callsADao(Connection c) throws SQLException {
            begins(c);
        }

        String formats(int id) {
            return "row " + id + " of " + Math.max(id, 1) + Integer.toHexString(id);
        }

        IntSupplier makesALambda(int id) {
            return () -> id * 2;
        }

        int callsNothing(int id) {
            return id * 31 + 7;
        }

        void runsSomethingItWasGiven(Runnable work) {
            work.run();
        }

        /** Legacy code written against the driver's own class (an unwrapped connection). */
        void commitsOnTheDriversClass(org.h2.jdbc.JdbcConnection c) throws SQLException {
            c.commit();
        }

        /** A database engine's session has methods of the same shape: not JDBC. */
        void switchesASession(EngineSession session) {
            session.setAutoCommit(false);
        }
    }

    @SuppressWarnings("unused")
    static final class EngineSession {
        void setAutoCommit(boolean autoCommit) {}
    }

    @Test
    void jdbcCallers_andMethodsThatMayRunApplicationCode_areFound_stringsArithmeticAndLambdaCreationAreNot()
            throws IOException {
        JdbcCallSites sites;
        try (InputStream in = Sample.class.getResourceAsStream("JdbcCallSitesTest$Sample.class")) {
            sites = JdbcCallSites.of(in.readAllBytes());
        }
        assertEquals(Set.of("begins(Ljava/sql/Connection;)V", "editsARow(Ljava/sql/ResultSet;)V",
                "commitsOnTheDriversClass(Lorg/h2/jdbc/JdbcConnection;)V"), sites.callingJdbc);
        Set<String> names = new java.util.TreeSet<>();
        for (String m : sites.mayRunApplicationCode) names.add(m.substring(0, m.indexOf('(')));
        // the lambda's body multiplies only: it is not instrumented, and creating it runs nothing
        assertEquals(Set.of("begins", "editsARow", "callsADao", "runsSomethingItWasGiven", "commitsOnTheDriversClass",
                "switchesASession", "<init>"), names);
    }

    /** A class that calls no JDBC, but runs code it is given and builds strings. */
    @SuppressWarnings("unused")
    static final class NoJdbc {
        String describe(Runnable work, int id) {
            work.run();
            return "row " + id;
        }
    }

    /**
     * The constant-pool check that spares a class that is not the application's a reading of its code: it must find
     * every class that calls JDBC (java.sql's interfaces, a driver's connection class), and may pass the others over.
     */
    @Test
    void theConstantPoolCheck_findsEveryJdbcCaller_andPassesOverAClassThatCallsNone() throws IOException {
        try (InputStream sample = Sample.class.getResourceAsStream("JdbcCallSitesTest$Sample.class");
             InputStream noJdbc = NoJdbc.class.getResourceAsStream("JdbcCallSitesTest$NoJdbc.class");
             InputStream session = EngineSession.class.getResourceAsStream("JdbcCallSitesTest$EngineSession.class")) {
            assertEquals(true, JdbcCallSites.namesJdbcClasses(sample.readAllBytes()));
            byte[] none = noJdbc.readAllBytes();
            assertEquals(false, JdbcCallSites.namesJdbcClasses(none));
            assertEquals(Set.of(), JdbcCallSites.of(none).callingJdbc, "what the check passes over calls no JDBC indeed");
            assertEquals(false, JdbcCallSites.namesJdbcClasses(session.readAllBytes()));
        }
    }
}
