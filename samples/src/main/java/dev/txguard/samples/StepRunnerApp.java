package dev.txguard.samples;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.TreeSet;

/**
 * A legacy batch job: a list of steps run one after the other by a step runner, on one connection,
 * inside the job's transaction. The first step is a DAO that begins its own "transaction" and forgets
 * to end it; the second writes a row and commits, as its author thought, its own work.
 *
 * <p>In plain JDBC the second step's commit commits the job's transaction. Both calls to the runner
 * come from the same line, so a stack walk cannot tell the two step activations apart; the agent's
 * instrumented activations can. No txguard code here: {@code java StepRunnerApp <url>}.
 */
public final class StepRunnerApp {

    interface Step {
        void run(Connection c) throws SQLException;
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        try (Connection setup = DriverManager.getConnection(url); Statement s = setup.createStatement()) {
            s.execute("DROP TABLE IF EXISTS job_rows");
            s.execute("CREATE TABLE job_rows (id INT PRIMARY KEY)");
        }
        try (Connection c = DriverManager.getConnection(url)) {
            c.setAutoCommit(false); // the job's transaction
            List<Step> steps = List.of(StepRunnerApp::beginsAndForgets, StepRunnerApp::writesAndCommits);
            for (Step step : steps) runStep(step, c);
        } // closed: whatever is still open is rolled back
        System.out.println("committed: " + committed(url));
    }

    /** The step runner: one frame shared by every step. */
    private static void runStep(Step step, Connection c) throws SQLException {
        step.run(c);
    }

    private static void beginsAndForgets(Connection c) throws SQLException {
        c.setAutoCommit(false);
    }

    private static void writesAndCommits(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO job_rows (id) VALUES (1)");
        }
        c.commit();
    }

    private static TreeSet<Integer> committed(String url) throws SQLException {
        TreeSet<Integer> ids = new TreeSet<>();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM job_rows")) {
            while (rs.next()) ids.add(rs.getInt(1));
        }
        return ids;
    }
}
