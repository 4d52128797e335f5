package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.testkit.Stats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The status page ({@code GET /}) in a real headless Chromium (Debian's chromium and
 * chromium-driver, driven by Selenium): the members, the leader and the decision; during a
 * failover the new primary and the history entry appear without a reload (from the event
 * stream); on a sentinel whose API needs a token the page asks for it. Screenshots (desktop and
 * phone-sized) go to target/status-page*.png; the delay from the publication to the page showing
 * the new primary is appended to target/benchmarks/status-page.txt.
 */
class StatusPageIT extends ClusterTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String TOKEN = "status-page-token";

    @Test
    void thePageShowsTheClusterAndFollowsAFailoverLive() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "chromium and chromium-driver are not installed (bin/ensure-test-tools installs them as root)");
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        // node2's API needs the token for reads too: its page must ask for it
        cluster = SentinelCluster.start(2, y -> y.contains("  id: node2\n")
                ? y + "api:\n  tokenFile: " + token + "\n  readRequiresAuth: true\n" : y);
        Topology first = cluster.awaitTopology("a healthy topology", t -> states(t).equals("node2=streaming,node3=streaming"));
        WebDriver browser = chromium();
        try (CuratorFramework zk = cluster.zk().newClient(Duration.ofSeconds(10))) {
            browser.manage().window().setSize(new Dimension(1280, 860));
            browser.get(cluster.sentinel("node3").url("/"));
            awaitText(browser, "primary", first.primary().id());
            Await.until("three members and the live stream", SentinelCluster.WAIT, () ->
                    browser.findElements(By.cssSelector("#members tbody tr")).size() == 3
                            && text(browser, "live").equals("live"));
            // the leader may still move right after the start: the page follows the current one
            Await.until("the page to name the current leader", SentinelCluster.WAIT, () -> {
                Topology now = cluster.topologyInZooKeeper();
                return now != null && text(browser, "leader").equals(now.leader());
            });
            assertThat(text(browser, "decision")).isNotBlank();
            assertThat(browser.findElement(By.cssSelector("#members tr[data-node='node2'] td:nth-child(3)")).getText())
                    .isEqualTo("streaming");
            assertThat(browser.findElement(By.id("paused")).isDisplayed()).isFalse();

            // the primary's host is lost: the page follows without a reload
            cluster.sentinel("node1").process().kill9();
            cluster.pg().node("node1").kill9();
            Topology after = cluster.awaitTopology("a new primary", t -> t.epoch() > first.epoch());
            long publishedAt = zk.checkExists().forPath(cluster.paths().topology()).getMtime();
            Await.until("the page to show the new primary", SentinelCluster.WAIT, Duration.ofMillis(20),
                    () -> text(browser, "primary").equals(after.primary().id()));
            long shownAt = System.currentTimeMillis();
            Stats.record("status-page.txt", String.format("%s status page: new primary shown %d ms after the "
                    + "topology's publication (ZooKeeper mtime; polled every 20 ms)", LocalDate.now(),
                    Math.max(0, shownAt - publishedAt)));
            Await.until("the failover in the history", SentinelCluster.WAIT, () -> !browser.findElements(
                    By.cssSelector(".history-entry[data-epoch='" + after.epoch() + "'] .stages .stage")).isEmpty());
            String entry = browser.findElement(By.cssSelector(".history-entry[data-epoch='" + after.epoch() + "']"))
                    .getText();
            assertThat(entry).contains("failover: node1 \u2192 " + after.primary().id());
            Await.until("node1 shown down", SentinelCluster.WAIT, () -> browser.findElement(
                    By.cssSelector("#members tr[data-node='node1'] td:nth-child(3)")).getText().equals("down"));
            String other = after.primary().id().equals("node2") ? "node3" : "node2";
            Await.until(other + " shown streaming from the new primary", SentinelCluster.WAIT, () -> browser.findElement(
                    By.cssSelector("#members tr[data-node='" + other + "'] td:nth-child(3)")).getText().equals("streaming"));
            screenshot(browser, "status-page.png");
            browser.manage().window().setSize(new Dimension(390, 844)); // a phone
            Await.until("the members table within a phone's width", SentinelCluster.WAIT, () -> ((Number)
                    ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                            "return document.documentElement.scrollWidth")).intValue() <= 390);
            screenshot(browser, "status-page-phone.png");

            // a sentinel whose API needs the token: the page asks, then shows the cluster
            browser.manage().window().setSize(new Dimension(1280, 860));
            browser.get(cluster.sentinel("node2").url("/"));
            Await.until("the page to ask for the token", SentinelCluster.WAIT,
                    () -> browser.findElement(By.id("login")).isDisplayed());
            assertThat(Http.get(cluster.sentinel("node2").url("/cluster")).status()).isEqualTo(401);
            browser.findElement(By.id("token")).sendKeys(TOKEN);
            browser.findElement(By.cssSelector("#login-form button")).click();
            awaitText(browser, "primary", after.primary().id());
            Await.until("the stream with the token", SentinelCluster.WAIT, () -> text(browser, "live").equals("live"));
            assertThat(browser.findElement(By.id("login")).isDisplayed()).isFalse();
        } finally {
            browser.quit();
        }
    }

    private static WebDriver chromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private static String text(WebDriver browser, String id) {
        List<WebElement> found = browser.findElements(By.id(id));
        return found.isEmpty() ? "" : found.get(0).getText();
    }

    private static void awaitText(WebDriver browser, String id, String expected) {
        Await.until("#" + id + " to read " + expected, SentinelCluster.WAIT, () -> text(browser, id).equals(expected));
    }

    private static void screenshot(WebDriver browser, String name) throws Exception {
        Path shot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, Path.of("target", name), StandardCopyOption.REPLACE_EXISTING);
    }
}
