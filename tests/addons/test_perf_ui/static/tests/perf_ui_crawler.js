/** @odoo-module **/

/**
 * Smoke crawl of the perf_* screens, started by test_perf_ui's HttpCase with a spec the
 * server computed for the logged-in user:
 *
 *   { label, menus: [entry], actions: [entry], denylist: [button name], failMark }
 *   entry = { label, menuId | actionId, target, viewTypes, resModel, hasRecords, scope }
 *
 * For every entry it opens the menu or action, switches to every view type, clicks every
 * header and form button whose name is not denied (before each click it reopens the entry,
 * so one button's outcome cannot hide the next one's), and records every error dialog and
 * danger notification. It ends with "test successful", or with one console.error starting
 * with failMark that lists every problem seen.
 *
 * The waiting follows Odoo's clickbot (@web/webclient/clickbot/clickbot.js): a step is
 * over when no RPC is pending and OWL has no scheduled render.
 */

import { App } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";

const MOUSE_EVENTS = ["mouseover", "mouseenter", "mousedown", "mouseup", "click"];
const STEP_TIMEOUT_MS = 30000;
const POLL_MS = 25;
// Multi-record view types that have a switcher button in the control panel.
const SWITCHABLE = ["list", "kanban", "pivot", "graph", "calendar", "activity", "map", "gantt"];

class Crawler {
    constructor(spec) {
        this.spec = spec;
        this.env = odoo.__WOWL_DEBUG__.root.env;
        this.deny = new Set(spec.denylist);
        this.pending = {};
        this.problems = [];
        this.seen = new WeakSet();
        this.counts = { entries: 0, views: 0, buttons: 0, forms: 0, dialogs: 0 };
        this.onRequest = ({ detail }) => {
            this.pending[detail.data.id] = detail.url;
        };
        this.onResponse = ({ detail }) => {
            delete this.pending[detail.data.id];
        };
    }

    log(message) {
        browser.console.log(`[perf_ui ${this.spec.label}] ${message}`);
    }

    problem(where, message) {
        // Of an OWL error, the cause says what went wrong; the rest is the web client's stack.
        const cause = message.indexOf("Caused by:");
        const what = cause >= 0 ? message.slice(cause) : message;
        const text = `${where}: ${what}`.replace(/\s+/g, " ").slice(0, 1500);
        this.log(`PROBLEM ${text}`);
        this.problems.push(text);
    }

    // ------------------------------------------------------------------------------------
    // Waiting and clicking
    // ------------------------------------------------------------------------------------

    busy() {
        if (Object.keys(this.pending).length) {
            return true;
        }
        return [...App.apps].some((app) => app.scheduler.tasks.size > 0);
    }

    /** Wait until ``condition()`` holds and nothing is loading; false on timeout. */
    async waitFor(where, condition = () => true) {
        let left = STEP_TIMEOUT_MS;
        let calm = 0;
        while (calm < 3) {
            if (document.querySelector(".o_error_dialog")) {
                return false;
            }
            calm = !this.busy() && condition() ? calm + 1 : 0;
            if (left <= 0) {
                const waiting = Object.values(this.pending).join(", ");
                this.problem(where, `timed out${waiting ? ` waiting for ${waiting}` : ""}`);
                return false;
            }
            await new Promise((resolve) => browser.setTimeout(resolve, POLL_MS));
            left -= POLL_MS;
        }
        return true;
    }

    async click(element, where) {
        for (const type of MOUSE_EVENTS) {
            element.dispatchEvent(
                new MouseEvent(type, { bubbles: true, cancelable: true, view: window })
            );
        }
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const ok = await this.waitFor(where);
        await this.collect(where);
        return ok;
    }

    /** Record (and close) every error dialog and danger notification on screen. */
    async collect(where) {
        for (const dialog of document.querySelectorAll(".o_error_dialog")) {
            if (this.seen.has(dialog)) {
                continue;
            }
            this.seen.add(dialog);
            // The message and traceback are rendered once "See details" is unfolded.
            const details = [...dialog.querySelectorAll("button")].find((b) =>
                /details/i.test(b.innerText)
            );
            if (details) {
                details.click();
                await new Promise((resolve) => browser.setTimeout(resolve, 50));
            }
            const info = dialog.querySelector(".alert-info");
            const trace = dialog.querySelector(".o_error_detail");
            const text =
                [info && info.innerText, trace && trace.innerText.slice(-800)]
                    .filter(Boolean)
                    .join(" | ") || dialog.innerText;
            this.problem(where, `error dialog: ${text}`);
            const close = dialog.querySelector(".modal-footer .btn-primary, .btn-close");
            if (close) {
                close.click();
                await new Promise((resolve) => browser.setTimeout(resolve, 50));
            }
        }
        for (const note of document.querySelectorAll(".o_notification.border-danger")) {
            if (this.seen.has(note)) {
                continue;
            }
            this.seen.add(note);
            this.problem(where, `danger notification: ${note.innerText}`);
            const close = note.querySelector(".o_notification_close");
            if (close) {
                close.click();
            }
        }
    }

    /** Close the dialogs a click opened (wizards, confirmations) without confirming. */
    async closeDialogs(where) {
        for (let i = 0; i < 5; i++) {
            const modal = [...document.querySelectorAll(".modal")]
                .filter((m) => !m.querySelector(".o_error_dialog"))
                .pop();
            if (!modal) {
                return;
            }
            this.counts.dialogs++;
            const close =
                modal.querySelector(".modal-header .btn-close") ||
                modal.querySelector("button[special='cancel']") ||
                [...modal.querySelectorAll(".modal-footer button")].find((b) =>
                    /cancel|discard|close/i.test(b.innerText)
                );
            if (!close) {
                this.problem(where, "a dialog without a close or cancel button");
                return;
            }
            await this.click(close, `${where} (closing dialog)`);
        }
    }

    // ------------------------------------------------------------------------------------
    // Navigation
    // ------------------------------------------------------------------------------------

    controller() {
        return this.env.services.action.currentController;
    }

    currentViewType() {
        const controller = this.controller();
        return controller && controller.view ? controller.view.type : null;
    }

    /** Open the entry afresh (clearing breadcrumbs); false when it did not open. */
    async open(entry) {
        const where = `${entry.label}: open`;
        const before = this.controller();
        const seen = this.problems.length;
        try {
            if (entry.menuId) {
                await this.env.services.menu.selectMenu(entry.menuId);
            } else {
                await this.env.services.action.doAction(entry.actionId, {
                    clearBreadcrumbs: true,
                });
            }
        } catch (error) {
            const cause = error && error.cause ? ` (${error.cause.message || error.cause})` : "";
            this.problem(where, `raised ${error && (error.message || error)}${cause}`);
        }
        const ok = await this.waitFor(where, () =>
            entry.target === "new"
                ? document.querySelector(".modal .o_form_view")
                : this.controller() && this.controller() !== before
        );
        await this.collect(where);
        return ok && this.problems.length === seen;
    }

    async switchTo(entry, viewType) {
        if (this.currentViewType() === viewType) {
            return true;
        }
        const where = `${entry.label}: ${viewType} view`;
        const button = document.querySelector(`.o_control_panel .o_switch_view.o_${viewType}`);
        if (!button) {
            this.problem(where, "no view switcher button");
            return false;
        }
        await this.click(button, where);
        const ok = await this.waitFor(where, () => this.currentViewType() === viewType);
        await this.collect(where);
        return ok && this.currentViewType() === viewType;
    }

    /** Unfold the first group of a grouped list, so that data rows show. */
    async unfold(entry) {
        for (let depth = 0; depth < 3 && !document.querySelector(".o_data_row"); depth++) {
            const header = document.querySelector(".o_list_view .o_group_header.o_group_has_content:not(.o_group_open)");
            if (!header) {
                return;
            }
            await this.click(header, `${entry.label}: unfold a group`);
        }
    }

    async openList(entry) {
        return (await this.open(entry)) && (await this.switchTo(entry, "list"));
    }

    /** Reach a form of the entry: its dialog, its only view, or the first row's record. */
    async reachForm(entry) {
        if (!(await this.open(entry))) {
            return false;
        }
        if (entry.target === "new" || this.currentViewType() === "form") {
            return true;
        }
        if (!entry.viewTypes.includes("list") || !(await this.switchTo(entry, "list"))) {
            return false;
        }
        await this.unfold(entry);
        const cell = document.querySelector(".o_list_view .o_data_row .o_data_cell");
        if (!cell) {
            return false;
        }
        const where = `${entry.label}: open a record`;
        await this.click(cell, where);
        return (await this.waitFor(where, () => this.currentViewType() === "form")) &&
            this.currentViewType() === "form";
    }

    // ------------------------------------------------------------------------------------
    // Buttons
    // ------------------------------------------------------------------------------------

    buttonNames(root) {
        if (!root) {
            return [];
        }
        const names = [...root.querySelectorAll("button[name][type]")]
            .filter((b) => !b.disabled && ["object", "action"].includes(b.getAttribute("type")))
            .map((b) => b.getAttribute("name"));
        return [...new Set(names)];
    }

    allowed(entry, names, where) {
        return names.filter((name) => {
            if (this.deny.has(name)) {
                this.log(`${where}: not clicking ${name} (denylist)`);
                return false;
            }
            return true;
        });
    }

    async clickButton(entry, root, name, where) {
        const button = root && root.querySelector(`button[name="${CSS.escape(name)}"][type]`);
        if (!button) {
            this.log(`${where}: button ${name} not shown any more`);
            return;
        }
        this.counts.buttons++;
        this.log(`${where}: clicking ${name}`);
        await this.click(button, `${where}: button ${name}`);
        await this.closeDialogs(`${where}: button ${name}`);
        await this.collect(`${where}: button ${name}`);
    }

    controlPanel() {
        return document.querySelector(".o_action_manager .o_control_panel");
    }

    async selectFirstRow(entry) {
        await this.unfold(entry);
        const selector = document.querySelector(".o_list_view .o_data_row .o_list_record_selector");
        if (!selector) {
            return false;
        }
        await this.click(selector.querySelector("input") || selector, `${entry.label}: select a row`);
        return Boolean(document.querySelector(".o_list_view .o_data_row.o_data_row_selected, .o_list_view .o_data_row input:checked"));
    }

    async testListButtons(entry) {
        for (const selected of [false, true]) {
            const where = `${entry.label}: list header${selected ? " (one row selected)" : ""}`;
            if (!(await this.openList(entry)) || (selected && !(await this.selectFirstRow(entry)))) {
                if (selected) {
                    this.log(`${where}: no row to select`);
                }
                continue;
            }
            const names = this.allowed(entry, this.buttonNames(this.controlPanel()), where);
            for (const name of names) {
                if ((await this.openList(entry)) && (!selected || (await this.selectFirstRow(entry)))) {
                    await this.clickButton(entry, this.controlPanel(), name, where);
                }
            }
        }
    }

    /** Buttons of the first row (they open wizards, mostly). */
    async testRowButtons(entry) {
        const where = `${entry.label}: first row`;
        const row = () => document.querySelector(".o_list_view .o_data_row");
        if (!(await this.openList(entry))) {
            return;
        }
        await this.unfold(entry);
        const names = this.allowed(entry, this.buttonNames(row()), where);
        for (const name of names) {
            if (await this.openList(entry)) {
                await this.unfold(entry);
                await this.clickButton(entry, row(), name, where);
            }
        }
    }

    formRoot(entry) {
        if (entry.target === "new") {
            return [...document.querySelectorAll(".modal")].pop();
        }
        const form = document.querySelector(".o_action_manager .o_form_view");
        if (form && entry.scope) {
            return form.querySelector(entry.scope);
        }
        return form;
    }

    async testForm(entry) {
        const where = `${entry.label}: form`;
        if (!(await this.reachForm(entry))) {
            if (entry.hasRecords) {
                this.problem(where, "records exist but no form could be opened");
            } else {
                this.log(`${where}: no record to open`);
            }
            return;
        }
        this.counts.forms++;
        const names = this.allowed(entry, this.buttonNames(this.formRoot(entry)), where);
        for (const name of names) {
            if (await this.reachForm(entry)) {
                await this.clickButton(entry, this.formRoot(entry), name, where);
            }
        }
        if (entry.target === "new" && (await this.reachForm(entry))) {
            await this.closeDialogs(`${where}: close`);
        }
    }

    // ------------------------------------------------------------------------------------
    // The crawl
    // ------------------------------------------------------------------------------------

    async testEntry(entry) {
        this.log(`testing ${entry.label}`);
        this.counts.entries++;
        if (!(await this.open(entry))) {
            return;
        }
        if (entry.target !== "new") {
            for (const viewType of entry.viewTypes.filter((t) => SWITCHABLE.includes(t))) {
                if (await this.switchTo(entry, viewType)) {
                    this.counts.views++;
                    this.log(`${entry.label}: ${viewType} view shown`);
                }
            }
            if (entry.viewTypes.includes("list")) {
                await this.testListButtons(entry);
                await this.testRowButtons(entry);
            }
        }
        if (entry.viewTypes.includes("form")) {
            await this.testForm(entry);
        }
    }

    checkMenusVisible() {
        const known = new Set(this.env.services.menu.getAll().map((menu) => menu.id));
        for (const entry of this.spec.menus) {
            if (!known.has(entry.menuId)) {
                this.problem(entry.label, "the server shows this menu, the web client does not");
            }
        }
    }

    async run() {
        this.env.bus.addEventListener("RPC:REQUEST", this.onRequest);
        this.env.bus.addEventListener("RPC:RESPONSE", this.onResponse);
        const started = performance.now();
        try {
            this.checkMenusVisible();
            for (const entry of [...this.spec.menus, ...this.spec.actions]) {
                await this.testEntry(entry);
                await this.closeDialogs(`${entry.label}: leaving`);
            }
        } catch (error) {
            this.problem("crawler", `${error && (error.stack || error.message || error)}`);
        } finally {
            this.env.bus.removeEventListener("RPC:REQUEST", this.onRequest);
            this.env.bus.removeEventListener("RPC:RESPONSE", this.onResponse);
        }
        const c = this.counts;
        this.log(
            `crawled ${c.entries} menus/actions, ${c.views} views, ${c.forms} forms, ` +
                `${c.buttons} buttons, ${c.dialogs} dialogs closed in ` +
                `${Math.round((performance.now() - started) / 1000)} s`
        );
        // Leave on a list, never on a form being edited.
        await this.env.services.action.doAction("perf_core.perf_tool_call_action", {
            clearBreadcrumbs: true,
        });
        await this.waitFor("final");
        if (this.problems.length) {
            browser.console.error(`${this.spec.failMark}\n${this.problems.join("\n")}`);
        } else {
            browser.console.log("test successful");
        }
    }
}

export function crawl(spec) {
    // Not awaited by the caller: the HttpCase waits for "test successful" or an error.
    new Crawler(spec).run();
}
