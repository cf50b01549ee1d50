package dev.txguard.startupapp;

import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.config.EnableJpaRepositories;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A small Spring Boot application of the usual shape: an entity, a repository, a transactional service, a REST
 * controller, Actuator. It starts, stores and reads a row through JPA, prints how long the JVM took to get there
 * ({@code ready-ms}) and the CPU time its threads used until then ({@code cpu-ms}), and exits.
 */
@SpringBootApplication
@EnableJpaRepositories(considerNestedRepositories = true)
public class ClinicApp {

    public static void main(String[] args) {
        ConfigurableApplicationContext context = SpringApplication.run(ClinicApp.class, args);
        Owners owners = context.getBean(Owners.class);
        context.getBean(Service.class).register("first");
        System.out.println("owners: " + owners.count());
        System.out.println("connection: " + context.getBean(javax.sql.DataSource.class).getClass().getName());
        long cpuNanos = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
        System.out.println("ready-ms " + ManagementFactory.getRuntimeMXBean().getUptime() + " cpu-ms " + cpuNanos / 1_000_000);
        System.exit(SpringApplication.exit(context));
    }

    @Entity
    public static class Owner {
        @Id
        @GeneratedValue
        public Long id;
        public String name;
    }

    public interface Owners extends JpaRepository<Owner, Long> {}

    @org.springframework.stereotype.Service
    public static class Service {
        private final Owners owners;

        Service(Owners owners) {
            this.owners = owners;
        }

        @Transactional
        public void register(String name) {
            Owner owner = new Owner();
            owner.name = name;
            owners.save(owner);
        }
    }

    @RestController
    public static class Api {
        private final Owners owners;

        Api(Owners owners) {
            this.owners = owners;
        }

        @GetMapping("/owners")
        List<Owner> all() {
            return owners.findAll();
        }
    }
}
