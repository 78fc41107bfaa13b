// Reopen form: list only the agencies that lead or contribute to the chosen action.
// Without this script every agency is listed and the server refuses any other pair.
const data = document.getElementById("agencies-by-action");
const action = document.getElementById("id_action");
const agency = document.getElementById("id_agency");
if (data && action && agency) {
  const byAction = JSON.parse(data.textContent);
  const narrow = () => {
    const allowed = new Set((byAction[action.value] || []).map(String));
    for (const option of agency.options) {
      const shown = !action.value || allowed.has(option.value);
      option.hidden = !shown;
      option.disabled = !shown;
    }
    if (agency.selectedOptions[0]?.disabled) {
      agency.value = [...agency.options].find((option) => !option.disabled)?.value ?? "";
    }
  };
  action.addEventListener("change", narrow);
  narrow();
}
