"""Controlled documents, training and attachments in a real headless Chromium, in Chinese and English:
a file chosen in a task form's file input is stored with its hash; the register, the document page
and My training read in both languages; a training is signed from the page."""

import pytest

from tests.browser.test_browser import _login, browser, live_server  # noqa: F401  (fixtures)
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def _switch(driver, code):
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f"button[name=locale][value={code}]").click()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_attach_a_file_read_documents_and_sign_training_in_both_languages(app, live_server, browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    from tests.integration.test_attachments import _effective_sop, _gated_task

    with app.app_context():
        _, instance, task = _gated_task(app)
        _effective_sop(app)
    _login(browser, live_server, "warehouse")

    # 中文: My training lists SOP-WH-001; sign it read and understood.
    browser.get(f"{live_server}/erp/training")
    assert "我的培训" in browser.find_element(By.TAG_NAME, "h1").text
    row = browser.find_element(By.CSS_SELECTOR, "table.my-training tbody tr")
    assert "SOP-WH-001" in row.text and "已分配" in row.text
    row.find_element(By.NAME, "signature_username").send_keys("warehouse")
    row.find_element(By.NAME, "signature_password").send_keys(PASSWORD)
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "已完成" in browser.find_element(By.CSS_SELECTOR, "table.my-training tbody tr").text

    # The gated task: choose a file in the file input, complete the task.
    packing = tmp_path / "装箱单.csv"
    packing.write_bytes(b"item,qty\nCK-100,20\n")
    browser.get(f"{live_server}/tasks/{task['id']}")
    browser.find_element(By.CSS_SELECTOR, "input[type=file][name=packing_list]").send_keys(str(packing))
    browser.find_element(By.CSS_SELECTOR, ".task-form button[type=submit]").click()
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(EC.url_contains(f"/instances/{instance['id']}"))
    assert "装箱单.csv" in browser.find_element(By.TAG_NAME, "main").text

    # The document page in Chinese, then in English.
    browser.get(f"{live_server}/erp/documents/SOP-WH-001")
    assert "版本历史" in browser.page_source and "已生效" in browser.page_source
    _switch(browser, "en")
    browser.get(f"{live_server}/erp/documents/SOP-WH-001")
    assert "Version history" in browser.page_source
    versions = browser.find_element(By.CSS_SELECTOR, "table.versions").text
    assert "Effective" in versions and "SOP-WH-001.pdf" in versions and "SHA-256" in versions
    browser.get(f"{live_server}/erp/documents")
    assert "Controlled documents" in browser.find_element(By.TAG_NAME, "h1").text
    browser.get(f"{live_server}/erp/training")
    assert "Trained" in browser.find_element(By.CSS_SELECTOR, "table.my-training").text
