// The plan editor's agency pickers: GOV.UK's accessible autocomplete
// (static/vendor/accessible-autocomplete, loaded before this module) enhances
// each <select data-module="app-agency-autocomplete">. Typing a name, a short
// name or another name of an agency (each option's data-aliases) suggests it.
// Without JavaScript the plain select or multi-select works as it is.
const autocomplete = window.accessibleAutocomplete;

function optionsOf(select) {
  return [...select.options].filter((option) => option.value);
}

function sourceFor(select) {
  return (query, populate) => {
    const wanted = query.trim().toLowerCase();
    populate(
      optionsOf(select)
        .filter((option) => {
          const names = [option.textContent, ...(option.dataset.aliases || "").split("|")];
          return names.some((name) => name.toLowerCase().includes(wanted));
        })
        .map((option) => option.textContent),
    );
  };
}

function enhanceSingle(select) {
  const id = select.id; // the box takes the select's id, so its label names the box
  autocomplete.enhanceSelectElement({
    selectElement: select,
    source: sourceFor(select),
    defaultValue: "",
    showAllValues: false,
    dropdownArrow: () => "",
    onConfirm: (chosen) => {
      // Leaving the box confirms nothing (chosen is undefined): then what it shows
      // stands, and an emptied box clears the choice.
      const shown = chosen ?? document.getElementById(id)?.value ?? "";
      const option = optionsOf(select).find((o) => o.textContent === shown);
      if (option) select.value = option.value;
      else if (!shown.trim()) select.value = "";
    },
  });
}

// A multi-select: the box adds one agency at a time; the chosen ones are listed
// below it, each with a button to take it off. The select stays the form's field.
function enhanceMultiple(select) {
  const id = select.id;
  const wrapper = document.createElement("div");
  const chosenList = document.createElement("ul");
  chosenList.className = "govuk-list app-chosen-agencies";
  chosenList.setAttribute("aria-live", "polite");
  select.parentNode.insertBefore(wrapper, select);
  select.parentNode.insertBefore(chosenList, select.nextSibling);
  select.id = `${id}-select`;
  select.hidden = true;

  function render() {
    chosenList.replaceChildren(
      ...optionsOf(select)
        .filter((option) => option.selected)
        .map((option) => {
          const item = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-1 govuk-!-margin-left-2";
          button.textContent = "Remove";
          const hidden = document.createElement("span");
          hidden.className = "govuk-visually-hidden";
          hidden.textContent = ` ${option.textContent}`;
          button.append(hidden);
          button.addEventListener("click", () => {
            option.selected = false;
            render();
            document.getElementById(id).focus();
          });
          item.append(option.textContent, button);
          return item;
        }),
    );
  }

  autocomplete({
    element: wrapper,
    id,
    name: "",
    source: sourceFor(select),
    showNoOptionsFound: true,
    confirmOnBlur: false,
    onConfirm: (chosen) => {
      const option = optionsOf(select).find((o) => o.textContent === chosen);
      if (option) {
        option.selected = true;
        render();
      }
    },
  });
  render();
}

if (autocomplete) {
  for (const select of document.querySelectorAll('select[data-module="app-agency-autocomplete"]')) {
    if (select.multiple) enhanceMultiple(select);
    else enhanceSingle(select);
  }
}
