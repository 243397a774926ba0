"""A real headless Chromium against the served app: the task form's behaviour as a person sees it."""

import os
import shutil
import threading

import pytest

from tests.conftest import IN_CI
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def _chromium():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        message = "Debian's chromium and chromium-driver are not installed (make test installs them when run as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return chromium, driver


@pytest.fixture
def live_server(app):
    """Serve the test app with waitress on a free loopback port for the duration of the test."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path / 'chrome'}",
    ):
        options.add_argument(flag)
    drv = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    drv.implicitly_wait(5)
    yield drv
    if os.environ.get("TRACEFLOW_SCREENSHOTS"):
        drv.save_screenshot(os.path.join(os.environ["TRACEFLOW_SCREENSHOTS"], "last.png"))
    drv.quit()


def _login(browser, base, username):
    from selenium.webdriver.common.by import By

    browser.get(f"{base}/login")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda b: "/login" not in b.current_url)


def _wait_for_url(browser, fragment):
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(EC.url_contains(fragment))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_submit_a_change_request_with_added_rows_in_chromium(app, live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _login(browser, live_server, "requester")
    assert "待办" in browser.title
    browser.get(f"{live_server}/processes")
    browser.find_element(By.CSS_SELECTOR, "a[href$='/change_control/new']").click()
    _wait_for_url(browser, "/processes/change_control/new")
    assert "提交变更申请" in browser.find_element(By.TAG_NAME, "h1").text

    # Submitting empty shows field errors next to the fields, in Chinese, and creates no record.
    browser.find_element(By.CSS_SELECTOR, ".task-form button[type=submit]").click()
    title_error = browser.find_element(By.CSS_SELECTOR, "[data-field=title] .error")
    assert title_error.text == "必填"
    with app.app_context():
        from webapp.services import queries

        assert queries.recent_instances() == []  # the record is created by the first valid submit

    browser.find_element(By.NAME, "title").send_keys("更换备用灭菌供应商")
    browser.find_element(By.NAME, "description").send_keys("增加一家 EO 灭菌备用供应商。")
    Select(browser.find_element(By.NAME, "change_type")).select_by_value("supplier")
    browser.find_element(By.NAME, "affected_products-0-code").send_keys("CK-100")
    # "Add row" (forms.js) adds a second product row with the next index.
    browser.find_element(By.CSS_SELECTOR, "[data-add-row=affected_products]").click()
    browser.find_element(By.NAME, "affected_products-1-code").send_keys("CK-200")
    browser.find_element(By.NAME, "affected_products-1-name").send_keys("导管套件 加长型")
    browser.find_element(By.NAME, "reason").send_keys("单一来源风险。")
    date_input = browser.find_element(By.NAME, "proposed_effective_date")
    browser.execute_script("arguments[0].value = '2027-01-15'", date_input)
    browser.find_element(By.CSS_SELECTOR, ".task-form button[type=submit]").click()
    _wait_for_url(browser, "/instances/")
    history = browser.find_element(By.CSS_SELECTOR, "table.history").text
    assert "CK-100" in history and "CK-200" in history
    with app.app_context():
        from webapp.services import queries

        [instance] = queries.recent_instances()
        assert [p["code"] for p in instance.data["affected_products"]] == ["CK-100", "CK-200"]
        assert instance.data["proposed_effective_date"] == "2027-01-15"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_recall_notice_prints_without_the_app_around_it(app, live_server, browser):
    """The notice a customer receives: printed from Chromium, the app's header and links drop out and
    the lines keep their UDIs."""
    from selenium.webdriver.common.by import By

    from tests.integration.test_process_recall import _initiate, build_recall_world

    with app.app_context():
        build_recall_world()
    _qa, instance = _initiate(app)
    business_key = instance["business_key"]
    with app.app_context():
        from webapp.processes.recall.records import get_notice

        udis = [line["udi"] for line in get_notice(business_key, "HOSP").lines]
    _login(browser, live_server, "sales")
    browser.get(f"{live_server}/erp/recalls/{business_key}/notices/HOSP")
    header = browser.find_element(By.CSS_SELECTOR, "header.top")
    crumbs = browser.find_element(By.CSS_SELECTOR, ".crumbs")
    assert header.is_displayed() and crumbs.is_displayed()
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not header.is_displayed() and not crumbs.is_displayed()
    shown = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, ".notice-doc td.udi")]
    assert shown == udis and all(u.startswith("(01)") for u in udis)
    import base64

    pdf = browser.print_page()  # what the print dialog would produce
    assert base64.b64decode(pdf)[:5] == b"%PDF-"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_complaint_pages_in_chromium_in_chinese_and_english(app, live_server, browser):
    """A complaint entered with a bad awareness date shows the field error beside the field; the
    complaint list filters and the complaint page shows its reports, in both languages."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from tests.erp_world import days
    from tests.integration.test_process_complaint import build_complaint_world, start

    with app.app_context():
        build_complaint_world()
    _qa, reported = start(app, {}, outcome="death")
    _qa, harmless = start(app, {}, lot="K2", outcome="no_harm")
    _login(browser, live_server, "qa")
    browser.get(f"{live_server}/processes")
    browser.find_element(By.CSS_SELECTOR, "a[href$='/complaint/new']").click()
    _wait_for_url(browser, "/processes/complaint/new")
    assert "投诉受理" in browser.find_element(By.TAG_NAME, "h1").text
    date_input = browser.find_element(By.NAME, "awareness_date")
    browser.execute_script("arguments[0].value = arguments[1]", date_input, days(3).isoformat())
    Select(browser.find_element(By.NAME, "product")).select_by_value("KIT")
    browser.find_element(By.NAME, "lot").send_keys("K3")
    browser.find_element(By.CSS_SELECTOR, ".task-form button[type=submit]").click()
    assert browser.find_element(By.CSS_SELECTOR, "[data-field=awareness_date] .error").text == "不得晚于今天"
    assert browser.find_element(By.CSS_SELECTOR, "[data-field=lot] .error").text == "该批次从未发货"

    browser.get(f"{live_server}/erp/complaints")
    assert browser.find_element(By.TAG_NAME, "h1").text == "投诉"
    Select(browser.find_element(By.NAME, "reportable")).select_by_value("true")
    browser.find_element(By.CSS_SELECTOR, "#complaint-filters button[type=submit]").click()
    _wait_for_url(browser, "reportable=true")
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#complaints tbody tr")]
    assert len(rows) == 1 and reported["business_key"] in rows[0] and "死亡" in rows[0]
    browser.find_element(By.LINK_TEXT, reported["business_key"]).click()
    _wait_for_url(browser, f"/erp/complaints/{reported['business_key']}")
    markets = [r.get_attribute("data-market") for r in browser.find_elements(By.CSS_SELECTOR, "#reports tbody tr")]
    assert sorted(markets) == ["CN", "EU", "US"]
    assert "监管报告" in browser.page_source and harmless["business_key"] in browser.find_element(By.ID, "related").text

    browser.find_element(By.CSS_SELECTOR, "button[name=locale][value=en]").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda b: "Regulator reports" in b.page_source)
    assert "Timeline" in browser.page_source and "CN-DEATH-7D" in browser.page_source
    browser.get(f"{live_server}/erp/complaints")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Complaints"
    assert "Death" in browser.find_element(By.ID, "complaints").text


def test_the_inbox_on_a_phone_folds_its_menu_and_never_scrolls_sideways(app, live_server, browser, tmp_path):
    """375 px wide, in Chinese and English: the menu sits behind one button, tasks are cards, the
    filters wrap, the segregation badge shows; nothing is wider than the screen."""
    from selenium.webdriver.common.by import By

    from tests.helpers import user
    from webapp.extensions import db
    from webapp.services import instances

    with app.app_context():
        for _ in range(3):
            instances.start_instance(user("qa"), "capa")
        db.session.remove()
    browser.set_window_size(375, 800)
    _login(browser, live_server, "qa")
    for language, menu in (("zh_CN", "菜单"), ("en", "Menu")):
        browser.get(f"{live_server}/")
        if language == "en":
            from selenium.webdriver.support.ui import WebDriverWait

            browser.find_element(By.CSS_SELECTOR, "button[name=locale][value=en]").click()
            WebDriverWait(browser, 10).until(
                lambda b: (
                    b.execute_script("return document.readyState === 'complete' && document.documentElement.lang")
                    == "en"
                )
            )  # the page after the switch, not the one before it
        nav = browser.find_element(By.CSS_SELECTOR, "nav.main-nav")
        button = browser.find_element(By.CSS_SELECTOR, "label.menu-button")
        assert menu in button.text and not nav.is_displayed()
        button.click()
        assert nav.is_displayed() and len(nav.find_elements(By.TAG_NAME, "a")) >= 4
        cards = browser.find_elements(By.CSS_SELECTOR, "table.list.tasks tbody tr")
        assert len(cards) >= 3 and cards[0].value_of_css_property("display") == "block"
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 375, f"{language}: the page is {width} px wide"
        browser.save_screenshot(str(tmp_path / f"inbox-375-{language}.png"))
    # The pages warehouse and QA staff open on a handheld: none is wider than the screen.
    with app.app_context():
        from tests.erp_world import build_world, receive
        from webapp.models import Lot
        from webapp.services import queries

        receive(build_world(), "TUBE", "T-2610", 40)
        lot_id = db.session.query(Lot.id).filter(Lot.lot_number == "T-2610").scalar()
        task_id = queries.open_tasks(user("qa"))[0].task_id
        db.session.remove()
    for path in (f"/tasks/{task_id}", f"/erp/lots/{lot_id}", "/erp/trace?material=TUBE&lot=T-2610", "/instances"):
        browser.get(f"{live_server}{path}")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide at 375"
    browser.set_window_size(1366, 900)
    browser.get(f"{live_server}/")
    assert browser.find_element(By.CSS_SELECTOR, "nav.main-nav").is_displayed()  # no button on a desk
    assert not browser.find_element(By.CSS_SELECTOR, "label.menu-button").is_displayed()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_trace_page_suggests_materials_and_their_lots_as_you_type(app, live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.erp_world import build_world, receive

    with app.app_context():
        receive(build_world(), "TUBE", "T-2610", 40)
    _login(browser, live_server, "qa")
    browser.get(f"{live_server}/erp/trace")
    material = browser.find_element(By.NAME, "material")
    material.send_keys("tub")

    def options(list_id):
        return [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, f"#{list_id} option")]

    WebDriverWait(browser, 10).until(lambda b: options("pick-material") == ["TUBE"])
    material.clear()
    material.send_keys("TUBE")
    browser.find_element(By.NAME, "lot").send_keys("26")
    WebDriverWait(browser, 10).until(lambda b: options("pick-lot") == ["T-2610"])
