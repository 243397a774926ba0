"""Regenerate the README screenshots in headless Chromium: an instance diagram and a version diff.

Usage: .venv/bin/python docs/make_screenshots.py   (needs Debian's chromium and chromium-driver)
"""
from pathlib import Path
import sys
import tempfile
import threading

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _prepare(app):
    """Demo users, change control on the major path up to the reviews, and two versions of a small process."""
    from engine import ProcessBundle, SourceFile
    from webapp.cli import deploy_paths, upgrade_schema
    from webapp.services import instances, queries, tasks
    from webapp.services.deployments import deploy_bundle
    from tests.helpers import DATA_BY_TASK, MAJOR_IMPACT, create_demo_users, user
    upgrade_schema()
    deploy_paths([])
    create_demo_users()
    instance = instances.start_instance(user("requester"), "change_control")
    for actor, data in (("requester", DATA_BY_TASK["submit_request"]), ("qa", MAJOR_IMPACT)):
        row = [r for r in queries.instance_tasks(instance.id) if r.completed_at is None][0]
        tasks.complete_task(user(actor), row.task_id, data)
    diagrams = ROOT / "tests" / "fixtures" / "diagrams"
    deploy_bundle(ProcessBundle.from_paths(diagrams / "purchase_v1.bpmn"))
    # v2 under v1's file name: a process owner saving the edited file
    deploy_bundle(ProcessBundle([SourceFile("purchase_v1.bpmn", (diagrams / "purchase_v2.bpmn").read_text())]))
    return instance.id


def main():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from waitress.server import create_server
    from webapp import create_app
    from tests.helpers import PASSWORD
    tmp = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.sqlite", "SECRET_KEY": "shots",
                      "DEPLOYMENT_APPROVAL": False})
    with app.app_context():
        instance_id = _prepare(app)
        from webapp.extensions import db
        from webapp.models import ProcessVersion
        purchase_key = db.session.query(ProcessVersion.key).filter(ProcessVersion.key != "change_control").first()[0]
    server = create_server(app, host="127.0.0.1", port=0)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=1500,1000", f"--user-data-dir={tmp}/chrome"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"{base}/login")
        driver.find_element(By.NAME, "username").send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        for url, name in ((f"/instances/{instance_id}", "instance-diagram.png"),
                          (f"/definitions/{purchase_key}/diff?from=1&to=2", "version-diff.png")):
            driver.get(base + url)
            driver.find_element(By.CSS_SELECTOR, "figure.diagram img")
            driver.execute_script("document.querySelector('figure.diagram').scrollIntoView()")
            driver.find_element(By.CSS_SELECTOR, "figure.diagram").screenshot(str(ROOT / "docs" / name))
            print("wrote", ROOT / "docs" / name)
    finally:
        driver.quit()
        server.close()


if __name__ == "__main__":
    main()
