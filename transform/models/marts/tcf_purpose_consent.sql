{{ config(enabled=var('consent_taps_gravito_enabled', true)) }}
-- TCF purpose consent per domain (Gravito's decoded TC strings).
{{ tcf_consent('purposes_consented', 'purposes_legitimate_interest', 'purpose_id') }}
