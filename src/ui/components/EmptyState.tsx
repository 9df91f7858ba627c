/** What the page shows before any model is open. */
export function EmptyState() {
  return (
    <section className="empty-state" data-testid="empty-state" aria-labelledby="empty-heading">
      <div className="empty-icon" aria-hidden="true">
        ⇩
      </div>
      <h2 id="empty-heading">Drop a .tflite file here, pick one, or try a sample — nothing leaves your machine</h2>
      <p>
        The model is read in this browser tab: you will see its inputs and outputs, the ops it uses, its size,
        parameters and weight bytes by data type, and whether it is already quantized.
      </p>
    </section>
  );
}
